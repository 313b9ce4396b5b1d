"""How the issuance component joins the platform at start-up (called by ``bootstrap.wire``)."""

from __future__ import annotations

from sscard.issuance import service


def wire() -> None:
    """Encrypted bank accounts, the lapse of temporary losses, outbox destinations."""
    service.register_subscribers()
