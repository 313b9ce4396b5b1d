"""What the medical settlement tests share: the medical and bank peers served in threads
over real HTTP, and committed people, cards and hospitals (the settlement runs its own
transactions, so nothing here is rolled back)."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from peers.bank.app import create_app as bank_app
from peers.bank.branch import card_id_code
from peers.medical.app import create_app as medical_app
from sqlalchemy import Engine
from tests.integration.cards import signed
from tests.support import LiveServer, citizen_id, free_port, person_body, start_server, stop_server

from sscard import db
from sscard.crypto import keyring
from sscard.iam import service as iam_service
from sscard.iam.catalog import ChannelType, InstitutionType
from sscard.iam.schemas import ChannelCreate, InstitutionCreate
from sscard.issuance.cards import application_service, making_service, number_service
from sscard.issuance.cards import service as cards_service
from sscard.issuance.cards.schemas import ApplicationIn, RangeIn
from sscard.issuance.lifecycle import Action
from sscard.kit.context import Actor, ActorKind
from sscard.payments.ledger import verify
from sscard.payments.merchants import service as merchants_service
from sscard.payments.merchants.schemas import MerchantCreate
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.schemas import PersonCreate
from sscard.registry.photos import portraits
from sscard.registry.photos import service as registry_photos
from sscard.scenarios import service as scenarios_service
from sscard.settings import reset_settings

CLERK = Actor(
    kind=ActorKind.operator,
    id="medical-clerk",
    name="医保结算员",
    institution_code="PLATFORM",
    institution_type="hrss_bureau",
    region_code="370800",
    permissions=frozenset({"*"}),
)


@dataclass
class Peers:
    medical: str
    bank: str

    def enrol(self, id_number: str, kind: str = "employee", balance: int = 0) -> None:
        body = {"id_number": id_number, "insurance_type": kind, "personal_balance_fen": balance}
        assert httpx.post(f"{self.medical}/control/persons", json=body).status_code == 201

    def insured(self, id_number: str) -> dict[str, Any]:
        found = httpx.post(f"{self.medical}/medical/persons/query", json={"id_number": id_number})
        return dict(found.json())

    def bank_fault(self, operation: str, mode: str, **extra: Any) -> None:
        body = {"operation": operation, "mode": mode, **extra}
        assert httpx.put(f"{self.bank}/control/faults", json=body).status_code == 204

    def bank_payments(self, ref: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.bank}/control/payments", params={"ref": ref}).json()
        return list(answer["items"])

    def settlement(self, number: str) -> dict[str, Any]:
        return dict(httpx.get(f"{self.medical}/medical/settlements/{number}").json())


def _serve(app: FastAPI) -> tuple[str, uvicorn.Server, threading.Thread]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "peer did not start"
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}", server, thread


@pytest.fixture(scope="module")
def served() -> Iterator[Peers]:
    running = [_serve(factory()) for factory in (medical_app, bank_app)]
    yield Peers(*(url for url, _, _ in running))
    for _, server, thread in running:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def peers(served: Peers, monkeypatch: pytest.MonkeyPatch) -> Iterator[Peers]:
    monkeypatch.setenv("SSCARD_MEDICAL_URL", served.medical)
    monkeypatch.setenv("SSCARD_BANK_URLS", json.dumps({"*": served.bank}))
    reset_settings()
    yield served
    httpx.delete(f"{served.bank}/control/faults")
    monkeypatch.undo()
    reset_settings()


@dataclass
class World:
    bank: str
    hospital: str
    pharmacy: str


@pytest.fixture(scope="module")
def world(engine: object) -> World:
    """A bank, a number range, a hospital and a pharmacy in 任城区 (committed)."""
    keyring.reset()
    bank = f"BM{secrets.token_hex(3).upper()}"
    with db.transaction() as session:
        iam_service.create_institution(
            session,
            data=InstitutionCreate(
                code=bank, name="测试合作银行", type=InstitutionType.bank, region_code="370800"
            ),
        )
        scenarios_service.ensure_default_scenarios(session)
        institution = iam_service.ensure_platform_institution(session).code
        codes = []
        for name, mcc in (("济宁市第一人民医院", "8062"), ("仁和大药房任城店", "5912")):
            code = f"H{secrets.token_hex(4).upper()}"
            merchants_service.create_merchant(
                session,
                data=MerchantCreate(
                    code=code,
                    name=name,
                    mcc=mcc,
                    institution_code=institution,
                    region_code="370811",
                    settlement_bank="中国工商银行济宁分行",
                    settlement_account="6222021608000000011",
                    fee_rate_bp=0,
                ),
                actor=CLERK,
            )
            codes.append(code)
    for _ in range(20):
        prefix = "Y" + secrets.token_hex(2).upper()[:3]
        try:
            with db.transaction() as session:
                number_service.add_range(
                    session, data=RangeIn(region_code="370800", prefix=prefix, start=1, end=99999)
                )
            break
        except Exception:  # noqa: S112 - an overlapping prefix: take another
            continue
    return World(bank, codes[0], codes[1])


@dataclass(frozen=True)
class Holder:
    id_number: str
    card_id: str
    card_number: str
    account: str
    copy_id: int | None


def _card(session: Any, bank: str, id_number: str) -> Any:
    """An active card with its own bank account (marked active) for ``id_number``."""
    card = application_service.apply(
        session, data=ApplicationIn(id_number=id_number, bank_code=bank), actor=CLERK
    )
    number_service.assign_number(session, card=card, actor=CLERK)
    cards_service.transition(session, card=card, action=Action.submit, actor=CLERK)
    made = making_service.MadeCard(
        card_id_code=card_id_code("370800", secrets.randbelow(10**12), generation=3),
        atr="3B6C00000A3180",
        bank_account="621700" + f"{secrets.randbelow(10**13):013d}",
        issue_date=date(2026, 11, 1),
    )
    making_service.record_made(session, card=card, made=made, actor=CLERK)
    cards_service.transition(session, card=card, action=Action.issue, actor=CLERK)
    cards_service.transition(session, card=card, action=Action.activate, actor=CLERK)
    card.bank_account_active = True
    return card


def holder(world: World, *, ecard: bool = False) -> Holder:
    """A person with an active card (and, with ``ecard``, a signed e-card copy)."""
    number = citizen_id("370811")
    with db.transaction() as session:
        registry_service.create_person(
            session, data=PersonCreate.model_validate(person_body(number)), actor=CLERK
        )
        registry_photos.put_photo(
            session, id_number=number, data=portraits.demo_portrait(5), actor=CLERK
        )
        copy_id = None
        if ecard:
            channel = f"CH{secrets.token_hex(3).upper()}"
            iam_service.create_channel(
                session,
                data=ChannelCreate(
                    code=channel,
                    name="测试人社APP",
                    type=ChannelType.hrss_app,
                    owner_institution_code=iam_service.ensure_platform_institution(session).code,
                ),
            )
            card, _, copy = signed(session, CLERK, world.bank, number, channel)
            copy_id = copy.id
        else:
            card = _card(session, world.bank, number)
        account = making_service.bank_account(session, card=card) or ""
        return Holder(number, card.id, card.card_number or "", account, copy_id)


def fund(peers: Peers, world: World, who: Holder, amount_fen: int) -> None:
    """Put money on the holder's bank account and activate it at the bank."""
    body = {"bank_code": world.bank, "card_number": who.card_number, "account": who.account}
    posted = httpx.post(
        f"{peers.bank}/control/postings", json={**body, "amount_fen": amount_fen, "kind": "deposit"}
    )
    assert posted.status_code == 200, posted.text
    assert httpx.post(f"{peers.bank}/accounts/activate", json=body).status_code == 200


def bank_balance(peers: Peers, world: World, who: Holder) -> int:
    body = {"bank_code": world.bank, "card_number": who.card_number}
    return int(httpx.post(f"{peers.bank}/control/lookup", json=body).json()["balance_fen"])


def ledger_clean() -> bool:
    with db.transaction() as session:
        return verify.verify_ledger(session, progress=lambda *_: None).ok


# ---- the medical peer as a process, and a platform process that reaches it ------------


@pytest.fixture(scope="module")
def medical_peer() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "peers.medical", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=15)


@pytest.fixture(scope="module")
def medical_server(
    engine: Engine, medical_peer: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    log = tmp_path_factory.mktemp("medical") / "server.log"
    running = start_server(log, extra_env={"SSCARD_MEDICAL_URL": medical_peer})
    yield running
    stop_server(running)


@pytest.fixture
def wired(medical_peer: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("SSCARD_MEDICAL_URL", medical_peer)
    reset_settings()
    yield medical_peer
    monkeypatch.undo()
    reset_settings()
