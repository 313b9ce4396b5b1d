"""Helpers that take a card through its life in a test (real services, real database)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from sscard.issuance import numbers
from sscard.issuance.cards import application_service, making_service, number_service, service
from sscard.issuance.cards.models import Card
from sscard.issuance.cards.schemas import ApplicationIn
from sscard.issuance.lifecycle import Action
from sscard.kit.context import Actor


def _apply(session: Session, clerk: Actor, bank: str, id_number: str) -> Card:
    return application_service.apply(
        session, data=ApplicationIn(id_number=id_number, bank_code=bank), actor=clerk
    )


def _made(session: Session, clerk: Actor, card: Card, serial: int = 1) -> Card:
    number_service.assign_number(session, card=card, actor=clerk)
    service.transition(session, card=card, action=Action.submit, actor=clerk)
    made = making_service.MadeCard(
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
    return making_service.record_made(session, card=card, made=made, actor=clerk)


def _active(session: Session, clerk: Actor, bank: str, id_number: str) -> Card:
    card = _made(session, clerk, _apply(session, clerk, bank, id_number))
    service.transition(session, card=card, action=Action.issue, actor=clerk)
    return service.transition(session, card=card, action=Action.activate, actor=clerk)


def signed(session: Session, actor: Actor, bank: str, holder: str, channel: str):  # type: ignore[no-untyped-def]
    """Make ``holder``'s card active with a PIN and sign its e-card in ``channel``."""
    import base64

    from pydantic import SecretStr

    from sscard.ecard import service as ecard_service
    from sscard.ecard.schemas import RealPerson, SignIn
    from sscard.registry.photos import service as registry_photos

    card = _active(session, actor, bank, holder)
    service.set_pin(session, card_ref=card.id, pin="802417", actor=actor)
    photo = registry_photos.photo_bytes(session, person_id=card.person_id) or b""
    data = SignIn(
        id_number=holder,
        name="测试人员",
        card_number=card.card_number or "",
        card_pin=SecretStr("802417"),
        channel_code=channel,
        real_person=RealPerson(method="demo", image_base64=base64.b64encode(photo).decode()),
        ecard_pin=SecretStr("246810"),
    )
    ecard, copy = ecard_service.sign(session, data=data, actor=actor)
    return card, ecard, copy
