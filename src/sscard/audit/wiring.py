"""How the audit component joins the platform at start-up (called by ``bootstrap.wire``)."""

from __future__ import annotations

from sscard.audit import service


def wire() -> None:
    """Record personal-data access on every session and write it when it commits."""
    service.register_subscribers()
