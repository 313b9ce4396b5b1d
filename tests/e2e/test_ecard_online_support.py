"""Helpers for the online-service tests through a real server process (no tests here).

Residents are set up through the services in committed transactions (the live server shares
the test database): a person with a photo and an enrolment, a card made, issued and
activated, an e-card signed at a counter, and a wallet session token (``ser_...``) opened
in-process so that the login throttle of the HTTP endpoint is not spent on set-up.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import httpx
from pydantic import SecretStr
from tests.integration.cards import _active
from tests.integration.conftest import PERMISSIONS
from tests.support import LiveServer, citizen_id, person_body

from sscard import db
from sscard.ecard import service as ecard_service
from sscard.ecard.schemas import RealPerson, SignIn
from sscard.errors import ValidationFailed
from sscard.iam import service as iam_service
from sscard.iam.catalog import ChannelType, InstitutionType
from sscard.iam.schemas import ChannelCreate, InstitutionCreate
from sscard.issuance.cards import number_service
from sscard.issuance.cards import service as issuance_service
from sscard.issuance.cards.schemas import RangeIn
from sscard.kit import context
from sscard.kit.context import Actor, ActorKind
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.schemas import PersonCreate
from sscard.registry.photos import portraits
from sscard.registry.photos import service as registry_photos
from sscard.scenarios import service as scenarios_service
from sscard.scenarios.schemas import TerminalIn

CARD_PIN = "802417"
ECARD_PIN = "246810"
CLERK = Actor(
    kind=ActorKind.operator,
    id="ecard-online-clerk",
    name="亲情服务柜员",
    institution_code="PLATFORM",
    institution_type="hrss_bureau",
    region_code="370800",
    permissions=PERMISSIONS | {"ecard.sign", "ecard.manage"},
)


@dataclass(frozen=True)
class World:
    channel: str
    bank: str
    terminals: dict[str, str]
    """scenario -> terminal token."""


@dataclass(frozen=True)
class Resident:
    id_number: str
    person_id: str
    card_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _range() -> None:
    for _ in range(20):
        prefix = "N" + secrets.token_hex(1).upper()
        try:
            with db.transaction() as session:
                number_service.add_range(
                    session, data=RangeIn(region_code="370800", prefix=prefix, start=1, end=5000)
                )
            return
        except ValidationFailed:
            continue
    raise RuntimeError("no free number range prefix")


@cache
def _world(database: str) -> World:
    suffix = secrets.token_hex(3).upper()
    terminals: dict[str, str] = {}
    with db.transaction() as session, context.acting(CLERK):
        owner = iam_service.ensure_platform_institution(session).code
        channel = f"TO{suffix}"
        iam_service.create_channel(
            session,
            data=ChannelCreate(
                code=channel,
                name="测试人社APP",
                type=ChannelType.hrss_app,
                owner_institution_code=owner,
            ),
        )
        bank = f"BO{suffix}"
        iam_service.create_institution(
            session,
            data=InstitutionCreate(
                code=bank, name="测试合作银行", type=InstitutionType.bank, region_code="370800"
            ),
        )
        scenarios_service.ensure_default_scenarios(session)
        for scenario in ("library", "hospital", "pharmacy"):
            made = scenarios_service.register_terminal(
                session,
                data=TerminalIn(
                    code=f"T{scenario[:3].upper()}{suffix}",
                    name=f"测试终端{scenario}",
                    institution_code=owner,
                    scenario_code=scenario,
                ),
            )
            terminals[scenario] = made.token
    _range()
    return World(channel, bank, terminals)


def world() -> World:
    """A channel app, a bank, a number range and terminals (once per test database)."""
    return _world(str(db.get_engine().url))


def born_years_ago(years: int) -> str:
    today = date.today()
    return (
        f"{today.year - years}{today.month:02d}01"
        if today.day > 2
        else f"{today.year - years - 1}1201"
    )


def resident(years: int | None = None) -> Resident:
    """A person (born ``years`` ago when given) with an active card, a signed e-card and an
    open wallet session in the test channel app (all committed)."""
    where = world()
    number = citizen_id("370811", born_years_ago(years) if years is not None else None)
    body = person_body(
        number,
        enrolments=[{"insurance_type": "110", "status": "enrolled", "start_date": "2015-07-01"}],
    )
    with db.transaction() as session, context.acting(CLERK):
        registry_service.create_person(session, data=PersonCreate.model_validate(body), actor=CLERK)
        registry_photos.put_photo(
            session, id_number=number, data=portraits.demo_portrait(3), actor=CLERK
        )
        card = _active(session, CLERK, where.bank, number)
        issuance_service.set_pin(session, card_ref=card.id, pin=CARD_PIN, actor=CLERK)
        data = SignIn(
            id_number=number,
            name="测试人员",
            card_number=card.card_number or "",
            card_pin=SecretStr(CARD_PIN),
            channel_code=where.channel,
            real_person=RealPerson(method="counter"),
            ecard_pin=SecretStr(ECARD_PIN),
        )
        ecard_service.sign(session, data=data, actor=CLERK)
        raw, _record = ecard_service.login(
            session, id_number=number, pin=ECARD_PIN, channel_code=where.channel
        )
        person_id, card_id = card.person_id, card.id
    return Resident(number, person_id, card_id, raw)


def report_loss(who: Resident) -> None:
    with db.transaction() as session, context.acting(CLERK):
        issuance_service.report_loss(session, card_ref=who.card_id, temporary=True, actor=CLERK)


def register_client(server: LiveServer, admin_token: str, **body: Any) -> tuple[str, str]:
    """Register a client through the API; (client_id, client_secret)."""
    with server.client(admin_token) as http:
        made = http.post("/api/v1/ecard/oauth/clients", json=body)
    assert made.status_code == 201, made.text
    return made.json()["client"]["client_id"], made.json()["client_secret"]


def verify_at(
    server: LiveServer, scenario: str, code: str, business: int | None = None
) -> httpx.Response:
    with server.client(world().terminals[scenario]) as http:
        return http.post("/api/v1/ecard/codes/verify", json={"code": code, "business": business})


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The platform's one error body, with the expected status and error code."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "detail", "fields"} and body["error"] == code, body
    return body
