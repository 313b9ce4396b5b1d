"""A bank peer process and a server that pays through it, with payers whose card accounts
hold money at that bank, and a merchant with a terminal (helpers, no tests here)."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
from pydantic import SecretStr
from tests.e2e.test_ecard_online_support import CARD_PIN, CLERK, ECARD_PIN, Resident, world
from tests.integration.cards import _active
from tests.support import LiveServer, citizen_id, free_port, person_body, start_server, stop_server

from sscard import db
from sscard.ecard import service as ecard_service
from sscard.ecard.schemas import RealPerson, SignIn
from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType
from sscard.iam.schemas import InstitutionCreate
from sscard.issuance.cards import making_service
from sscard.issuance.cards import service as issuance_service
from sscard.kit import context
from sscard.kit.context import SYSTEM, acting
from sscard.payments.merchants import service as merchants_service
from sscard.payments.merchants import terminal_service
from sscard.payments.merchants.schemas import MerchantCreate
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.schemas import PersonCreate
from sscard.registry.photos import portraits
from sscard.registry.photos import service as registry_photos
from sscard.scenarios import service as scenarios
from sscard.scenarios.schemas import TerminalIn

ROOT = Path(__file__).resolve().parents[2]
CITY = context.Actor(
    kind=context.ActorKind.operator,
    id="pay-city",
    name="市中心",
    institution_code="PLATFORM",
    region_code="370800",
    permissions=frozenset({"payments.merchants.manage"}),
)


@dataclass(frozen=True)
class Payer:
    resident: Resident
    bank_code: str
    card_number: str
    account: str
    channel: str


@dataclass(frozen=True)
class Shop:
    code: str
    merchant_id: int
    terminal: str
    token: str
    name: str


@dataclass(frozen=True)
class Bank:
    url: str
    server: LiveServer


def bank_peer(log_dir: Path, **settings: str) -> Iterator[Bank]:
    """The bank peer as its own process and a server whose banks are all that peer."""
    port = free_port()
    log = (log_dir / "bank.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "peers.bank", "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            assert time.monotonic() < deadline, "the bank peer did not start"
            time.sleep(0.1)
    env = {"SSCARD_BANK_URLS": json.dumps({"*": url}), **settings}
    server = start_server(log_dir / f"server-{date.today()}.log", extra_env=env)
    yield Bank(url, server)
    stop_server(server)
    process.terminate()
    process.wait(timeout=15)


def payer() -> Payer:
    """A resident with a wallet session whose card account is at a bank of its own (so
    that no two test cards share a bank account number at the peer)."""
    where = world()
    bank = f"BP{secrets.token_hex(3).upper()}"
    number = citizen_id("370811")
    with db.transaction() as session, context.acting(CLERK):
        iam_service.create_institution(
            session,
            data=InstitutionCreate(
                code=bank, name="付款测试银行", type=InstitutionType.bank, region_code="370800"
            ),
        )
        registry_service.create_person(
            session, data=PersonCreate.model_validate(person_body(number)), actor=CLERK
        )
        registry_photos.put_photo(
            session, id_number=number, data=portraits.demo_portrait(3), actor=CLERK
        )
        card = _active(session, CLERK, bank, number)
        card.bank_account_active = True  # as if the bank had confirmed it at activation
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
        account = making_service.bank_account(session, card=card) or ""
        who = Resident(number, card.person_id, card.id, raw)
        return Payer(who, bank, card.card_number or "", account, where.channel)


def fund(bank: Bank, who: Payer, amount_fen: int) -> None:
    """Money on the payer's card account at the bank (a benefit paid in)."""
    body = {"bank_code": who.bank_code, "card_number": who.card_number, "account": who.account}
    deposit = {**body, "amount_fen": amount_fen, "kind": "deposit", "description": "存入"}
    posted = httpx.post(f"{bank.url}/control/postings", json=deposit, timeout=10)
    assert posted.status_code == 200, posted.text
    activated = httpx.post(f"{bank.url}/accounts/activate", json=body, timeout=10)
    assert activated.status_code == 200, activated.text


def shop(mcc: str = "5912", name: str = "仁和大药房任城店") -> Shop:
    """An active merchant in 任城区 with a terminal linked and its token."""
    tag = secrets.token_hex(3).upper()
    with acting(SYSTEM), db.transaction() as session:
        scenarios.ensure_default_scenarios(session)
        data = MerchantCreate(
            code=f"M{tag}",
            name=name,
            mcc=mcc,
            institution_code="PLATFORM",
            region_code="370811",
            settlement_bank="中国工商银行济宁分行",
            settlement_account="6222021608000000011",
            fee_rate_bp=38,
        )
        merchant = merchants_service.create_merchant(session, data=data, actor=CITY)
        made = scenarios.register_terminal(
            session,
            data=TerminalIn(
                code=f"POS{tag}", name="收银台", institution_code="PLATFORM",
                scenario_code="pharmacy",
            ),
        )  # fmt: skip
        terminal_service.link_terminal(
            session, merchant_id=merchant.id, terminal_code=f"POS{tag}", actor=CITY
        )
        return Shop(merchant.code, merchant.id, f"POS{tag}", made.token, name)
