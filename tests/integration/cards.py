"""Helpers that take a card through its life in a test (real services, real database)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from sscard.issuance import numbers, service
from sscard.issuance.lifecycle import Action
from sscard.issuance.models import Card
from sscard.issuance.schemas import ApplicationIn
from sscard.kit.context import Actor


def _apply(session: Session, clerk: Actor, bank: str, id_number: str) -> Card:
    return service.apply(
        session, data=ApplicationIn(id_number=id_number, bank_code=bank), actor=clerk
    )


def _made(session: Session, clerk: Actor, card: Card, serial: int = 1) -> Card:
    service.assign_number(session, card=card, actor=clerk)
    service.transition(session, card=card, action=Action.submit, actor=clerk)
    made = service.MadeCard(
        card_id_code=numbers.make_card_id_code(
            region_code="370800",
            generation=3,
            vendor_code="HD01",
            year=2026,
            serial=int(card.id[-8:], 36) % 10**12 + serial,
        ),
        atr="3B6C00000A3180",
        bank_account="6217001234567890123",
        issue_date=date(2026, 11, 1),
    )
    return service.record_made(session, card=card, made=made, actor=clerk)


def _active(session: Session, clerk: Actor, bank: str, id_number: str) -> Card:
    card = _made(session, clerk, _apply(session, clerk, bank, id_number))
    service.transition(session, card=card, action=Action.issue, actor=clerk)
    return service.transition(session, card=card, action=Action.activate, actor=clerk)
