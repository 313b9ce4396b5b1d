"""What order tests need, committed (a payment runs its own transactions): the bank peer
served in-process over real HTTP, a merchant, and active cards with a funded bank account."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
import uvicorn
from peers.bank.app import create_app as bank_app
from peers.bank.branch import card_id_code
from sqlalchemy import Engine
from tests.support import citizen_id, free_port, person_body

from sscard import db
from sscard.crypto import keyring
from sscard.errors import ValidationFailed
from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType
from sscard.iam.schemas import InstitutionCreate
from sscard.issuance.cards import application_service, making_service, number_service
from sscard.issuance.cards import service as cards_service
from sscard.issuance.cards.schemas import ApplicationIn, RangeIn
from sscard.issuance.lifecycle import Action
from sscard.kit.context import Actor, ActorKind
from sscard.payments.merchants import service as merchants_service
from sscard.payments.merchants.schemas import MerchantCreate
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.schemas import PersonCreate
from sscard.registry.photos import portraits
from sscard.registry.photos import service as registry_photos
from sscard.settings import reset_settings

CLERK = Actor(
    kind=ActorKind.operator,
    id="pay-clerk",
    name="支付经办",
    institution_code="PLATFORM",
    institution_type="hrss_bureau",
    region_code="370800",
    permissions=frozenset({"*"}),
)
DISTRICT = Actor(
    kind=ActorKind.operator,
    id="pay-district",
    name="区县经办",
    region_code="370812",
    permissions=frozenset({"*"}),
)


@dataclass(frozen=True)
class PayCard:
    card_id: str
    card_number: str
    bank_code: str
    account: str


class Bank:
    """The bank peer as the tests drive it."""

    def __init__(self, url: str) -> None:
        self.url = url

    def fault(self, operation: str, mode: str, **extra: Any) -> None:
        body = {"operation": operation, "mode": mode, **extra}
        assert httpx.put(f"{self.url}/control/faults", json=body).status_code == 204

    def clear(self) -> None:
        httpx.delete(f"{self.url}/control/faults")

    def payments(self, ref: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.url}/control/payments", params={"ref": ref}).json()
        return list(answer["items"])

    def balance(self, card: PayCard) -> int:
        body = {"bank_code": card.bank_code, "card_number": card.card_number}
        return int(httpx.post(f"{self.url}/control/lookup", json=body).json()["balance_fen"])

    def fund(self, card: PayCard, amount_fen: int, *, activate: bool = True) -> None:
        body = {
            "bank_code": card.bank_code,
            "card_number": card.card_number,
            "account": card.account,
        }
        posted = httpx.post(
            f"{self.url}/control/postings",
            json={**body, "amount_fen": amount_fen, "kind": "deposit"},
        )
        assert posted.status_code == 200, posted.text
        if activate:
            assert httpx.post(f"{self.url}/accounts/activate", json=body).status_code == 200


def serve_bank() -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(bank_app(), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "bank peer did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def bank_url() -> Iterator[str]:
    yield from serve_bank()


@pytest.fixture
def bank(bank_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bank]:
    """The platform configured to reach the bank peer, with no fault left from before."""
    monkeypatch.setenv("SSCARD_BANK_URLS", json.dumps({"*": bank_url}))
    monkeypatch.setenv("SSCARD_PEER_TIMEOUT_SECONDS", "2")
    reset_settings()
    peer = Bank(bank_url)
    peer.clear()
    yield peer
    peer.clear()
    monkeypatch.undo()
    reset_settings()


@pytest.fixture(scope="module")
def pay_numbers(engine: Engine) -> None:
    """A block of card numbers (committed), and no key cached from another test database."""
    keyring.reset()
    for _ in range(20):
        prefix = "Q" + secrets.token_hex(2).upper()[:3]
        try:
            with db.transaction() as session:
                number_service.add_range(
                    session, data=RangeIn(region_code="370800", prefix=prefix, start=1, end=99999)
                )
            return
        except ValidationFailed:
            continue


def new_bank_code() -> str:
    code = f"BP{secrets.token_hex(3).upper()}"
    with db.transaction() as session:
        iam_service.create_institution(
            session,
            data=InstitutionCreate(
                code=code, name="测试合作银行", type=InstitutionType.bank, region_code="370800"
            ),
        )
    return code


def new_merchant(region: str = "370811") -> str:
    """An active merchant (committed); its code."""
    inst = f"MI{secrets.token_hex(3).upper()}"
    code = f"M{secrets.token_hex(5).upper()}"
    with db.transaction() as session:
        iam_service.create_institution(
            session,
            data=InstitutionCreate(
                code=inst, name="收单机构", type=InstitutionType.merchant, region_code=region
            ),
        )
        data = {
            "code": code,
            "name": "仁和大药房任城店",
            "mcc": "5912",
            "institution_code": inst,
            "settlement_bank": "中国工商银行济宁分行",
            "settlement_account": "6222021608000000011",
            "fee_rate_bp": 38,
        }
        merchants_service.create_merchant(
            session, data=MerchantCreate.model_validate(data), actor=CLERK
        )
    return code


def active_card(bank_code: str | None = None, *, account_active: bool = True) -> PayCard:
    """A card made, issued and activated (committed), its bank account marked active."""
    bank_code = bank_code or new_bank_code()
    account = "621700" + f"{secrets.randbelow(10**13):013d}"
    with db.transaction() as session:
        number = citizen_id("370811")
        registry_service.create_person(
            session, data=PersonCreate.model_validate(person_body(number)), actor=CLERK
        )
        registry_photos.put_photo(
            session, id_number=number, data=portraits.demo_portrait(7), actor=CLERK
        )
        card = application_service.apply(
            session, data=ApplicationIn(id_number=number, bank_code=bank_code), actor=CLERK
        )
        number_service.assign_number(session, card=card, actor=CLERK)
        cards_service.transition(session, card=card, action=Action.submit, actor=CLERK)
        made = making_service.MadeCard(
            card_id_code=card_id_code("370800", secrets.randbelow(10**12), generation=3),
            atr="3B6C00000A3180",
            bank_account=account,
            issue_date=date(2026, 11, 1),
        )
        making_service.record_made(session, card=card, made=made, actor=CLERK)
        cards_service.transition(session, card=card, action=Action.issue, actor=CLERK)
        cards_service.transition(session, card=card, action=Action.activate, actor=CLERK)
        card.bank_account_active = account_active
        return PayCard(card.id, card.card_number or "", bank_code, account)
