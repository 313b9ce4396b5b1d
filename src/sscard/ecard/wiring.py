"""How the ecard component joins the platform at start-up (called by ``bootstrap.wire``)."""

from __future__ import annotations

from sscard.ecard import service
from sscard.issuance.cards import service as issuance_service
from sscard.kit import events
from sscard.registry.persons import events as registry_events


def wire() -> None:
    """Copies follow their card; a deceased person's e-cards are revoked."""
    events.subscribe(issuance_service.CardStatusChanged, service.on_card_status_changed)
    events.subscribe(registry_events.PersonDeceased, service.on_person_deceased)
