"""How the ecard component joins the platform at start-up (called by ``bootstrap.wire``)."""

from __future__ import annotations

from sscard.ecard import service
from sscard.issuance import service as issuance_service
from sscard.kit import events
from sscard.registry import service as registry_service


def wire() -> None:
    """Copies follow their card; a deceased person's e-cards are revoked."""
    events.subscribe(issuance_service.CardStatusChanged, service.on_card_status_changed)
    events.subscribe(registry_service.PersonDeceased, service.on_person_deceased)
