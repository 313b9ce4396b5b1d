"""How the ecard component joins the platform at start-up (called by ``bootstrap.wire``)."""

from __future__ import annotations

from sscard.ecard import service


def wire() -> None:
    """Copies follow their card; a deceased person's e-cards are revoked."""
    service.register_subscribers()
