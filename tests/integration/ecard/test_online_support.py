"""Fixtures for the online-service tests: signed e-cards of residents of a chosen age, their
wallet sessions, a channel app, a library terminal. (No tests here.)"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session
from tests.integration.cards import _active
from tests.integration.conftest import PERMISSIONS

from sscard.ecard import service as ecard_service
from sscard.ecard.models import Copy, ECard
from sscard.ecard.schemas import RealPerson, ResidentSessionOut, SignIn
from sscard.iam import service as iam_service
from sscard.iam.catalog import ChannelType
from sscard.iam.schemas import ChannelCreate
from sscard.issuance.cards import service as issuance
from sscard.issuance.cards.models import Card
from sscard.kit.context import Actor, ActorKind
from sscard.scenarios import service as scenarios

CARD_PIN = "802417"
ECARD_PIN = "246810"
TERMINAL = Actor(
    kind=ActorKind.terminal,
    id="LIB-GATE-9",
    name="图书馆闸机",
    institution_code="PLATFORM",
    permissions=frozenset({"ecard.verify"}),
)


def born_years_ago(years: int) -> str:
    """A birth date (YYYYMMDD) ``years`` years and a few days ago."""
    today = date.today()
    year = today.year - years
    return f"{year}{today.month:02d}01" if today.day > 2 else f"{year - 1}1201"


@dataclass
class Holder:
    id_number: str
    person_id: str
    card: Card
    ecard: ECard
    copy: Copy


@pytest.fixture
def signer(clerk: Actor) -> Actor:
    """A clerk who may sign e-cards and manage the e-card's online services."""
    fields = {f: getattr(clerk, f) for f in clerk.__slots__}
    return Actor(**{**fields, "permissions": PERMISSIONS | {"ecard.sign", "ecard.manage"}})


@pytest.fixture
def app_channel(session: Session) -> str:
    code = f"OL-{secrets.token_hex(3).upper()}"
    inst = iam_service.ensure_platform_institution(session).code
    iam_service.create_channel(
        session,
        data=ChannelCreate(
            code=code, name="测试人社APP", type=ChannelType.hrss_app, owner_institution_code=inst
        ),
    )
    scenarios.ensure_default_scenarios(session)
    return code


@pytest.fixture
def holder(
    session: Session,
    signer: Actor,
    bank: str,
    person: Callable[..., str],
    numbers: None,
    app_channel: str,
) -> Callable[..., Holder]:
    """Sign the e-card of a new person (born ``years`` ago when given) at a counter."""

    def make(years: int | None = None) -> Holder:
        id_number = person(born=born_years_ago(years) if years is not None else None)
        card = _active(session, signer, bank, id_number)
        issuance.set_pin(session, card_ref=card.id, pin=CARD_PIN, actor=signer)
        data = SignIn(
            id_number=id_number,
            name="测试人员",
            card_number=card.card_number or "",
            card_pin=SecretStr(CARD_PIN),
            channel_code=app_channel,
            real_person=RealPerson(method="counter"),
            ecard_pin=SecretStr(ECARD_PIN),
        )
        ecard, copy = ecard_service.sign(session, data=data, actor=signer)
        return Holder(id_number, card.person_id, card, ecard, copy)

    return make


@pytest.fixture
def wallet(session: Session, app_channel: str) -> Callable[[Holder], ResidentSessionOut]:
    """Open a holder's e-card in the channel app (their wallet session)."""

    def open_wallet(who: Holder) -> ResidentSessionOut:
        _raw, record = ecard_service.login(
            session, id_number=who.id_number, pin=ECARD_PIN, channel_code=app_channel
        )
        return record

    return open_wallet
