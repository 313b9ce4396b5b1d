"""How the registry component joins the platform at start-up (called by ``bootstrap.wire``)."""

from __future__ import annotations

from sscard.registry.persons import sealing
from sscard.registry.units import sealing as units_sealing


def wire() -> None:
    """Declare the encrypted person and employer tables for key rotation."""
    sealing.register()
    units_sealing.register()
