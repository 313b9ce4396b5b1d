"""Demo cards and e-cards, so that the console, the wallet and the terminal have life.

Takes the first adults of the demo registry (same seed, so the same persons every run)
that have a photo, and gives them cards in different states: most active with a signed
e-card, some waiting for the next batch, one temporarily lost. Idempotent: a person who
already has a live card is left alone. Demo only (``sscard demo seed`` refuses production).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date

from pydantic import SecretStr
from sqlalchemy.orm import Session

from sscard import db
from sscard.ecard import service as ecard_service
from sscard.ecard.schemas import RealPerson, SignIn
from sscard.issuance import numbers
from sscard.issuance.cards import application_service, making_service, number_service
from sscard.issuance.cards import service as issuance
from sscard.issuance.cards.schemas import ApplicationIn, RangeIn
from sscard.issuance.lifecycle import Action
from sscard.kit.context import Actor
from sscard.registry import fakes
from sscard.registry.persons import service as registry_service
from sscard.registry.photos import service as registry_photos
from sscard.scenarios import service as scenarios
from sscard.settings import get_settings

DEMO_CARD_PIN = "802417"
DEMO_ECARD_PIN = "246810"
"""PINs of the demo cards and e-cards. Demo only."""
BANK = "BANK-ICBC"
CHANNEL = "SDRS-APP"
PICKUP = "HALL-RC"


@dataclass(slots=True)
class CardsReport:
    active: int = 0
    waiting: int = 0
    lost: int = 0
    ecards: int = 0
    example: str | None = None

    def lines(self) -> list[str]:
        lines = [
            f"社保卡：正常 {self.active} 张，待制卡 {self.waiting} 张，挂失 {self.lost} 张",
            f"电子社保卡：签发 {self.ecards} 张（社保卡密码 {DEMO_CARD_PIN}，电子社保卡密码 "
            f"{DEMO_ECARD_PIN}，仅供演示）",
        ]
        if self.example:
            lines.append(
                f"居民端：打开 /wallet，证件号码 {self.example}，电子社保卡密码 "
                f"{DEMO_ECARD_PIN}（仅供演示）"
            )
        return lines


def _holders(
    seed: int, region: str, persons: int, wanted: int, photo_share: float
) -> list[fakes.FakePerson]:
    employers = fakes.employers(seed, region, max(1, round(persons / 50)))
    communities = fakes.communities(seed, region, max(1, round(persons / 40)))
    chosen = []
    for person in fakes.persons(
        seed, region, persons, employers=employers, communities=communities
    ):
        adult = 18 <= (date(2025, 12, 31) - person.birth_date).days // 365 < 80
        photographed = (person.photo_seed % 10_000) < photo_share * 10_000
        if person.status == "normal" and adult and photographed:
            chosen.append(person)
        if len(chosen) == wanted:
            break
    return chosen


def _ensure_range() -> None:
    region = get_settings().region_code
    with db.transaction() as session:
        if not number_service.list_ranges(session, region_code=region):
            number_service.add_range(
                session, data=RangeIn(region_code=region, prefix="J", start=1, end=9_999_999)
            )
        scenarios.ensure_default_scenarios(session)


def _active_card(session: Session, holder: fakes.FakePerson, actor: Actor, n: int) -> None:
    card = application_service.apply(
        session,
        data=ApplicationIn(id_number=holder.id_number, bank_code=BANK, pickup_place=PICKUP),
        actor=actor,
    )
    number_service.assign_number(session, card=card, actor=actor)
    issuance.transition(session, card=card, action=Action.submit, actor=actor)
    made = making_service.MadeCard(
        card_id_code=numbers.make_card_id_code(
            region_code=card.region_code,
            generation=3,
            vendor_code="HD01",
            year=2026,
            serial=int(holder.id_number[-11:-1]) * 10 + n % 10,
        ),
        atr="3B6C00000A3180",
        bank_account=f"62170012{holder.id_number[-11:-1]}0",
        issue_date=date(2026, 1, 5),
    )
    making_service.record_made(session, card=card, made=made, actor=actor)
    card.location = PICKUP
    issuance.transition(session, card=card, action=Action.arrive, actor=actor)
    issuance.transition(session, card=card, action=Action.issue, actor=actor)
    issuance.transition(
        session, card=card, action=Action.activate, actor=actor, detail={"demo": True}
    )
    issuance.set_pin(session, card_ref=card.id, pin=DEMO_CARD_PIN, actor=actor)


def _sign(session: Session, holder: fakes.FakePerson, actor: Actor) -> None:
    person = registry_service.find_person(session, id_number=holder.id_number)
    card = issuance.live_card(session, person_id=person.id) if person else None
    if person is None or card is None or card.card_number is None:
        return
    photo = registry_photos.photo_bytes(session, person_id=person.id) or b""
    ecard_service.sign(
        session,
        data=SignIn(
            id_number=holder.id_number,
            name=holder.name,
            card_number=card.card_number,
            card_pin=SecretStr(DEMO_CARD_PIN),
            channel_code=CHANNEL,
            real_person=RealPerson(method="demo", image_base64=base64.b64encode(photo).decode()),
            ecard_pin=SecretStr(DEMO_ECARD_PIN),
        ),
        actor=actor,
    )


def seed_cards(
    *, seed: int, region: str, persons: int, actor: Actor, photo_share: float = 0.5
) -> CardsReport:
    """Cards for the first demo adults with photos (16 active, 4 waiting, 1 of them lost)."""
    report = CardsReport()
    _ensure_range()
    holders = _holders(seed, region, persons, 20, photo_share)
    for n, holder in enumerate(holders):
        with db.transaction() as session:
            person = registry_service.find_person(session, id_number=holder.id_number)
            if person is None or issuance.live_card(session, person_id=person.id) is not None:
                continue
            if not registry_photos.has_photo(session, person_id=person.id):
                continue
            if n < 16:
                _active_card(session, holder, actor, n)
                report.active += 1
            else:
                application_service.apply(
                    session,
                    data=ApplicationIn(
                        id_number=holder.id_number, bank_code=BANK, pickup_place=PICKUP
                    ),
                    actor=actor,
                )
                report.waiting += 1
        if n < 16:
            with db.transaction() as session:
                _sign(session, holder, actor)
                report.ecards += 1
        if n == 15:
            with db.transaction() as session:
                found = registry_service.find_person(session, id_number=holder.id_number)
                card = issuance.live_card(session, person_id=found.id) if found else None
                if card is not None:
                    issuance.report_loss(session, card_ref=card.id, temporary=True, actor=actor)
                    report.lost += 1
    if holders:
        report.example = holders[0].id_number
    return report
