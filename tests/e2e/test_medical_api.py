"""The medical settlement API over real HTTP: a hospital's settlement desk (医药机构经办)
pre-settles, settles and refunds; a clerk of another district neither lists nor reads it;
bad input is a 422 naming the field; the platform and the medical peer are processes."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import httpx
from tests.e2e.paycodes_world import CITY
from tests.integration.payments.medical_support import (
    World,
    holder,
    medical_peer,
    medical_server,
    wired,
    world,
)
from tests.support import Account, LiveServer, login

from sscard import db
from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType
from sscard.iam.schemas import InstitutionCreate
from sscard.kit.context import SYSTEM, acting
from sscard.payments.merchants import service as merchants_service
from sscard.payments.merchants import terminal_service
from sscard.scenarios import service as scenarios_service
from sscard.scenarios.schemas import TerminalIn

__all__ = ["medical_peer", "medical_server", "wired", "world"]
BASE = "/api/v1/payments/medical"
EXAM = {"code": "E001", "name": "胸部CT", "item_class": "examination", "amount_fen": 30000}


def _institution(kind: InstitutionType, region: str) -> str:
    code = f"MD{secrets.token_hex(3).upper()}"
    with db.transaction() as session:
        iam_service.create_institution(
            session,
            data=InstitutionCreate(code=code, name="测试机构", type=kind, region_code=region),
        )
    return code


def _client(server: LiveServer, account: Account) -> httpx.Client:
    return server.client(login(server, account))


def test_a_settlement_desk_settles_and_refunds_and_another_district_sees_nothing(
    medical_server: LiveServer,
    wired: str,
    world: World,
    make_account: Callable[..., Account],
) -> None:
    desk = _client(
        medical_server,
        make_account("medical_agent", institution=_institution(InstitutionType.medical, "370811")),
    )
    other = _client(
        medical_server,
        make_account("clerk", institution=_institution(InstitutionType.service_hall, "370812")),
    )
    who = holder(world)
    body = {"id_number": who.id_number, "insurance_type": "employee", "personal_balance_fen": 50000}
    assert httpx.post(f"{wired}/control/persons", json=body).status_code == 201
    bill = {
        "merchant_code": world.hospital,
        "visit_kind": "outpatient",
        "card_number": who.card_number,
        "items": [EXAM],
    }

    trial = desk.post(f"{BASE}/settlements/pre-settle", json=bill)
    assert trial.status_code == 200, trial.text
    assert (trial.json()["pool_fen"], trial.json()["personal_fen"]) == (8500, 21500)

    made = desk.post(f"{BASE}/settlements", json=bill)
    assert made.status_code == 201, made.text
    number = made.json()["number"]
    assert made.json()["status"] == "settled"
    assert who.id_number not in made.text and who.card_number not in made.text

    listed = desk.get(f"{BASE}/settlements", params={"status": "settled"})
    assert number in [s["number"] for s in listed.json()]
    assert int(listed.headers["X-Total-Count"]) >= 1
    assert number not in [s["number"] for s in other.get(f"{BASE}/settlements").json()]
    assert other.get(f"{BASE}/settlements/{number}").status_code == 404
    assert (
        other.post(f"{BASE}/settlements/{number}/refund", json={"reason": "越权退费"}).status_code
        == 404
    )

    refunded = desk.post(f"{BASE}/settlements/{number}/refund", json={"reason": "患者取消检查"})
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["status"] == "refunded"
    again = desk.post(f"{BASE}/settlements/{number}/refund", json={"reason": "患者取消检查"})
    assert again.status_code == 409
    assert httpx.get(f"{wired}/medical/settlements/{number}").json()["status"] == "cancelled"

    assert desk.post(f"{BASE}/chronic", json={}).status_code == 403


def test_bad_bills_are_named_field_by_field_and_never_a_server_error(
    medical_server: LiveServer,
    wired: str,
    world: World,
    make_account: Callable[..., Account],
) -> None:
    clerk = _client(medical_server, make_account("clerk"))
    base = {"merchant_code": world.hospital, "visit_kind": "outpatient", "items": [EXAM]}
    card = {**base, "card_number": "A00000001"}
    cases = [
        (base, "ecard_code"),
        ({**card, "visit_kind": "walk-in"}, "visit_kind"),
        ({**card, "items": [{**EXAM, "amount_fen": -5}]}, "amount_fen"),
        ({**card, "card_number": "Z99999999"}, "card_number"),
        ({**card, "merchant_code": "NOSUCH01"}, "NOSUCH01"),
    ]
    for body, named in cases:
        answer = clerk.post(f"{BASE}/settlements", json=body)
        assert answer.status_code in (404, 422), answer.text
        assert named in answer.text
    chronic = clerk.post(
        f"{BASE}/chronic",
        json={
            "id_number": "370811199001011234",
            "disease_code": "E11",
            "disease_name": "糖尿病",
            "valid_from": "2026-06-01",
            "valid_to": "2026-01-01",
        },
    )
    assert chronic.status_code == 422 and "valid_to" in chronic.text
    assert clerk.get(f"{BASE}/settlements/M0000").status_code == 404


def _terminal_of(merchant_code: str | None) -> tuple[str, str]:
    """A hospital terminal (linked to ``merchant_code`` when given): its code and token."""
    code = f"HIS{secrets.token_hex(3).upper()}"
    with acting(SYSTEM), db.transaction() as session:
        made = scenarios_service.register_terminal(
            session,
            data=TerminalIn(
                code=code, name="门诊收费窗口", institution_code="PLATFORM",
                scenario_code="hospital",
            ),
        )  # fmt: skip
        if merchant_code is not None:
            merchant = merchants_service.get_merchant_by_code(
                session, code=merchant_code, actor=SYSTEM
            )
            terminal_service.link_terminal(
                session, merchant_id=merchant.id, terminal_code=code, actor=CITY
            )
    return code, made.token


def test_a_hospital_terminal_settles_for_its_own_institution_only(
    medical_server: LiveServer, wired: str, world: World
) -> None:
    who = holder(world)
    body = {"id_number": who.id_number, "insurance_type": "employee", "personal_balance_fen": 50000}
    assert httpx.post(f"{wired}/control/persons", json=body).status_code == 201
    bill = {
        "merchant_code": world.hospital,
        "visit_kind": "outpatient",
        "card_number": who.card_number,
        "items": [EXAM],
    }
    _, token = _terminal_of(world.hospital)
    with medical_server.client(token) as till:
        made = till.post(f"{BASE}/settlements", json=bill)
        assert made.status_code == 201, made.text
        assert made.json()["status"] == "settled"
        assert (made.json()["pool_fen"], made.json()["personal_fen"]) == (8500, 21500)
        elsewhere = till.post(f"{BASE}/settlements", json={**bill, "merchant_code": world.pharmacy})
        assert elsewhere.status_code == 422
        assert elsewhere.json()["fields"][0]["field"] == "merchant_code"
        assert till.get(f"{BASE}/settlements").status_code == 403  # a till lists nothing
        number = made.json()["number"]
        assert (
            till.post(f"{BASE}/settlements/{number}/refund", json={"reason": "退"}).status_code
            == 403
        )
    _, stray = _terminal_of(None)
    with medical_server.client(stray) as unlinked:
        refused = unlinked.post(f"{BASE}/settlements", json=bill)
    assert refused.status_code == 422 and "未关联" in refused.json()["fields"][0]["reason"]
