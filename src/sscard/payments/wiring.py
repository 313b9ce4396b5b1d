"""How the payments component joins the platform at start-up (called by ``bootstrap.wire``)."""

from __future__ import annotations

from sscard.payments.merchants import sealing as merchants_sealing


def wire() -> None:
    """Declare the encrypted merchant table for key rotation."""
    merchants_sealing.register()
