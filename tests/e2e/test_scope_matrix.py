"""The role x endpoint matrix: every route of the OpenAPI, called over real HTTP by every demo
role with path parameters naming another region's person and another bank's card. A scoped
role (clerk, bank, vendor) must never get a 2xx answer carrying what its scope does not cover,
and no call may answer 5xx. Also the card scope rule on its own."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from peers.bank.branch import card_id_code
from sqlalchemy import Engine
from tests.integration.cards import signed
from tests.integration.issuance.test_activation import CLERK, numbers  # noqa: F401
from tests.support import Account, LiveServer, citizen_id, login, person_body

from sscard import db
from sscard.ecard import service as ecard_service
from sscard.iam import service as iam_service
from sscard.iam.catalog import ChannelType, InstitutionType
from sscard.iam.schemas import ChannelCreate, InstitutionCreate
from sscard.issuance.cards import application_service, making_service, number_service, service
from sscard.issuance.cards.schemas import ApplicationIn
from sscard.issuance.lifecycle import Action
from sscard.kit.context import SYSTEM, acting
from sscard.payments.disbursement import service as disbursement_service
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.schemas import PersonCreate
from sscard.registry.photos import portraits
from sscard.registry.photos import service as registry_photos
from sscard.scenarios import service as scenarios
from sscard.scenarios.schemas import TerminalIn

pytestmark = pytest.mark.usefixtures("numbers")

# The demo roles (README "Demo accounts") and the kind of institution each works at.
ROLES = {
    "admin": ("admin", "platform"),
    "clerk": ("clerk", "hall"),
    "cardmgr": ("card_manager", "platform"),
    "bank": ("bank_agent", "bank"),
    "vendor": ("vendor_agent", "vendor"),
    "auditor": ("auditor", "platform"),
    "analyst": ("analyst", "platform"),
}
# The scoped roles, and the two tokens that are not operators: a resident's e-card session
# (their own card only) and a verification terminal (no person or card data at all).
SCOPED = {"clerk", "bank", "vendor", "resident", "terminal"}
# Calls that would end the caller's own session (then every later call is a 401).
SKIPPED_PATHS = re.compile(r"logout|/auth/token$")
# Issue 10 item 6: integers beyond bigint and negative limits give 500 on some routes; the
# integer bounds are fixed separately. The matrix fills integer path parameters with a
# small positive id, so it does not probe those; nothing is excluded for now.


def _institution(kind: InstitutionType, region: str) -> str:
    code = f"M{kind.value[:2].upper()}{secrets.token_hex(3).upper()}"
    with db.transaction() as session:
        iam_service.create_institution(
            session,
            data=InstitutionCreate(
                code=code, name=f"矩阵{kind.value}", type=kind, region_code=region
            ),
        )
    return code


def _person(region: str) -> tuple[str, str]:
    """A registered person (with a photo) of ``region``: their ID number and internal id."""
    number = citizen_id(region)
    with db.transaction() as session:
        registry_service.create_person(
            session, data=PersonCreate.model_validate(person_body(number)), actor=CLERK
        )
        registry_photos.put_photo(
            session, id_number=number, data=portraits.demo_portrait(7), actor=CLERK
        )
        found = registry_service.find_person(session, id_number=number)
        assert found is not None
        return number, found.id


def _issued_card(id_number: str, bank: str) -> tuple[str, str]:
    with db.transaction() as session:
        card = application_service.apply(
            session, data=ApplicationIn(id_number=id_number, bank_code=bank), actor=CLERK
        )
        number_service.assign_number(session, card=card, actor=CLERK)
        service.transition(session, card=card, action=Action.submit, actor=CLERK)
        made = making_service.MadeCard(
            card_id_code=card_id_code("370800", secrets.randbelow(10**12), generation=3),
            atr="3B6C00000A3180",
            bank_account="621700" + f"{secrets.randbelow(10**13):013d}",
            issue_date=date(2026, 11, 1),
        )
        making_service.record_made(session, card=card, made=made, actor=CLERK)
        service.transition(session, card=card, action=Action.issue, actor=CLERK)
        assert card.card_number is not None
        return card.id, card.card_number


def _foreign_batch(id_number: str, tmp: Path) -> str:
    """A benefit batch imported by an operator of 370812, paying the foreign person."""
    path = tmp / "foreign-pension.csv"
    path.write_text(
        f"社会保障号码,姓名,金额,待遇类型,期别\n{id_number},测试人员,1850.00,养老金,202612\n",
        encoding="utf-8",
    )
    district = replace(CLERK, id="matrix-370812", region_code="370812")
    with db.transaction() as session:
        batch = disbursement_service.import_file(
            session, path=path, source_name=path.name, actor=district
        )
        return batch.batch_no


def _place_card(card_id: str, place: str) -> None:
    with db.transaction() as session:
        service.card_by_id(session, card_id=card_id).location = place


def _foreign_order(region: str) -> str:
    """An unpaid order of a merchant trading in ``region``: its order number."""
    from sscard.payments.merchants import service as merchants_service
    from sscard.payments.merchants.schemas import MerchantCreate
    from sscard.payments.orders import service as orders_service

    code = f"MX{secrets.token_hex(4).upper()}"
    data = MerchantCreate(
        code=code,
        name="矩阵商户",
        mcc="5912",
        institution_code=_institution(InstitutionType.merchant, region),
        settlement_bank="中国工商银行济宁分行",
        settlement_account="6222021608000000011",
        fee_rate_bp=38,
    )
    with acting(SYSTEM), db.transaction() as session:
        merchants_service.create_merchant(session, data=data, actor=SYSTEM)
        order = orders_service.create_order(
            session,
            actor=SYSTEM,
            merchant_code=code,
            merchant_order_no="MATRIX1",
            amount_fen=100,
            category="retail",
            channel="counter",
        )
    return order.order_no


def _resident_and_terminal(bank: str) -> tuple[str, str]:
    """A resident's e-card session token (a holder of ``bank``'s card in the clerk's
    district, e-card signed in a channel app) and a library terminal's token."""
    tag = secrets.token_hex(3).upper()
    with acting(SYSTEM), db.transaction() as session:
        platform = iam_service.ensure_platform_institution(session).code
        iam_service.create_channel(
            session,
            data=ChannelCreate(
                code=f"MX{tag}",
                name="矩阵APP",
                type=ChannelType.hrss_app,
                owner_institution_code=platform,
            ),
        )
        scenarios.ensure_default_scenarios(session)
        terminal = scenarios.register_terminal(
            session,
            data=TerminalIn(
                code=f"MXT{tag}",
                name="矩阵闸机",
                institution_code=platform,
                scenario_code="library",
            ),
        ).token
    holder, _ = _person("370811")
    with acting(SYSTEM), db.transaction() as session:
        signed(session, SYSTEM, bank, holder, f"MX{tag}")
    with db.transaction() as session:
        raw, _record = ecard_service.login(
            session, id_number=holder, pin="246810", channel_code=f"MX{tag}"
        )
    return raw, terminal


@dataclass
class World:
    server: LiveServer
    clients: dict[str, httpx.Client]
    # Another region's person holding another bank's card: outside every scoped role.
    foreign_id_number: str
    foreign_person_id: str
    foreign_card_id: str
    foreign_card_number: str
    # A person of the clerk's region holding a card of another bank than the bank agent's.
    near_id_number: str
    near_card_number: str
    unregistered_id_number: str
    # An order of a merchant trading in another district (payments scope).
    foreign_order_no: str
    # A benefit batch (待遇发放) of the other district paying the foreign person's card.
    foreign_batch_no: str = ""


@pytest.fixture(scope="module")
def world(
    live_server: LiveServer,
    make_account: Any,
    engine: Engine,
    numbers: None,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:
    own_bank = _institution(InstitutionType.bank, "370800")
    other_bank = _institution(InstitutionType.bank, "370800")
    places = {
        "hall": _institution(InstitutionType.service_hall, "370811"),
        "bank": own_bank,
        "vendor": _institution(InstitutionType.card_vendor, "370000"),
        "platform": None,
    }
    foreign_id, foreign_person = _person("370812")
    foreign_card_id, foreign_number = _issued_card(foreign_id, other_bank)
    # The foreign card sits at another district's hall: neither at the clerk's counter nor
    # held by a person of the clerk's region, so the counter scope does not reach it either.
    _place_card(foreign_card_id, _institution(InstitutionType.service_hall, "370812"))
    foreign_batch = _foreign_batch(foreign_id, tmp_path_factory.mktemp("matrix"))
    near_id, _ = _person("370811")
    _, near_number = _issued_card(near_id, other_bank)
    clients = {}
    for name, (role, place) in ROLES.items():
        account: Account = make_account(role, institution=places[place])
        clients[name] = live_server.client(login(live_server, account))
    resident, terminal = _resident_and_terminal(own_bank)
    clients["resident"] = live_server.client(resident)
    clients["terminal"] = live_server.client(terminal)
    yield World(
        live_server,
        clients,
        foreign_id,
        foreign_person,
        foreign_card_id,
        foreign_number,
        near_id,
        near_number,
        citizen_id("370812"),
        _foreign_order("370812"),
        foreign_batch,
    )
    for client in clients.values():
        client.close()


# ---- the card scope rule, route by route ---------------------------------------------------


def test_a_bank_agent_lists_only_its_own_banks_cards(world: World) -> None:
    bank = world.clients["bank"]
    listed = bank.get("/api/v1/cards", params={"id_number": world.near_id_number})
    assert listed.status_code == 200, listed.text
    assert listed.json() == []
    info = bank.get(f"/api/v1/persons/{world.near_id_number}/card-info")
    assert info.status_code == 200, info.text
    assert info.json()["local"] == []
    assert world.near_card_number not in info.text
    single = bank.get(f"/api/v1/cards/{world.near_card_number}")
    assert single.status_code == 404
    # The clerk of the holder's region still sees the card.
    clerk = world.clients["clerk"].get("/api/v1/cards", params={"id_number": world.near_id_number})
    assert [c["card_number"] for c in clerk.json()] == [world.near_card_number]


def test_a_district_clerk_sees_no_benefit_batch_of_another_district(world: World) -> None:
    clerk, admin = world.clients["clerk"], world.clients["admin"]
    listed = clerk.get("/api/v1/payments/disbursements", params={"page_size": 200})
    assert listed.status_code == 200, listed.text
    assert world.foreign_batch_no not in {b["batch_no"] for b in listed.json()}
    assert clerk.get(f"/api/v1/payments/disbursements/{world.foreign_batch_no}").status_code == 404
    lines = clerk.get(f"/api/v1/payments/disbursements/{world.foreign_batch_no}/lines")
    assert lines.status_code == 404
    seen = admin.get(f"/api/v1/payments/disbursements/{world.foreign_batch_no}/lines")
    assert seen.status_code == 200 and seen.json()[0]["card_number"] == world.foreign_card_number


def test_a_vendor_cannot_tell_a_registered_id_number_from_an_unregistered_one(
    world: World,
) -> None:
    vendor = world.clients["vendor"]
    answers = []
    for number in (world.near_id_number, world.unregistered_id_number):
        listed = vendor.get("/api/v1/cards", params={"id_number": number})
        info = vendor.get(f"/api/v1/persons/{number}/card-info")
        answers.append((listed.status_code, listed.json(), info.status_code, info.json()["local"]))
    assert answers[0] == answers[1] == (200, [], 200, [])


# ---- the matrix ----------------------------------------------------------------------------


def _routes() -> list[tuple[str, str, dict[str, Any]]]:
    from sscard.app.factory import create_app

    schema = create_app().openapi()
    found = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"} and not SKIPPED_PATHS.search(
                path
            ):
                found.append((method.upper(), path, operation))
    return found


def _fill(world: World, path: str, operation: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The path with its parameters naming the foreign person or card; required queries too."""
    values = {
        "card_ref": world.foreign_card_number,
        "card_number": world.foreign_card_number,
        "card_id": world.foreign_card_id,
        "id_number": world.foreign_id_number,
        "person_id": world.foreign_person_id,
        "order_no": world.foreign_order_no,
        "batch_no": world.foreign_batch_no,
    }

    def value(name: str) -> str:
        if name in values:
            return values[name]
        if name.endswith("_id") or name in {"id", "job_id", "batch_id"}:
            return "1"
        return "X1"

    filled = re.sub(r"\{([^}]+)\}", lambda m: value(m.group(1)), path)
    query = {
        p["name"]: value(p["name"])
        for p in operation.get("parameters", [])
        if p.get("in") == "query" and p.get("required")
    }
    return filled, query


def test_every_route_with_every_role_keeps_to_the_roles_scope(world: World) -> None:
    routes = _routes()
    assert len(routes) > 50
    cards = [world.foreign_card_number, world.foreign_card_id]
    persons = [world.foreign_person_id, world.foreign_id_number, world.foreign_order_no]
    # What each scoped role must not see: the clerk neither the other district's person nor
    # their card; the bank agent reads the city's registry but not another bank's card; the
    # vendor neither (no registry permission, the card is not at the vendor).
    markers = {"clerk": cards + persons, "bank": cards, "vendor": cards + persons}
    markers["resident"] = markers["terminal"] = cards + persons
    problems = []
    answered = dict.fromkeys(world.clients, 0)
    for role, client in world.clients.items():
        for method, path, operation in routes:
            if method != "GET" and role not in SCOPED:
                continue  # unscoped roles may change anything: reading is what is probed
            url, query = _fill(world, path, operation)
            body = {} if method in {"POST", "PUT", "PATCH"} else None
            answer = client.request(method, url, params=query, json=body)
            # 503 is the documented answer for an unreachable peer (no peers run here).
            answered[role] += 200 <= answer.status_code < 300
            if answer.status_code >= 500 and answer.status_code != 503:
                problems.append(f"{role} {method} {path}: {answer.status_code}")
            elif 200 <= answer.status_code < 300 and role in SCOPED:
                leaked = [m for m in markers[role] if m in answer.text]
                if leaked:
                    problems.append(f"{role} {method} {path}: leaks {len(leaked)} marker(s)")
    assert problems == [], "\n".join(problems)
    # Every token was live: each role got some answers (else it probed nothing).
    assert all(answered.values()), answered


# ---- the platform's books: clearing and reconciliation -------------------------------------

BOOKS_PATHS = (
    "/api/v1/payments/recon/differences",
    "/api/v1/payments/settlement/days",
    "/api/v1/payments/recon/days/2026-12-04",
)


def test_only_the_platforms_operators_read_clearing_and_reconciliation(world: World) -> None:
    for path in BOOKS_PATHS:
        for role in ("clerk", "bank", "vendor", "resident", "terminal"):
            answer = world.clients[role].get(path)
            assert answer.status_code in {401, 403}, (role, path, answer.text)
        for role in ("admin", "auditor"):
            answer = world.clients[role].get(path)
            assert answer.status_code == 200, (role, path, answer.text)
    analyst = world.clients["analyst"]
    assert analyst.get("/api/v1/payments/settlement/days").status_code == 200
    assert analyst.get("/api/v1/payments/recon/differences").status_code == 403
