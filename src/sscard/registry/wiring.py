"""How the registry component joins the platform at start-up (called by ``bootstrap.wire``)."""

from __future__ import annotations

from sscard.registry.persons import sealing


def wire() -> None:
    """Declare the encrypted person table for key rotation."""
    sealing.register()
