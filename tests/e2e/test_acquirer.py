"""The acquirer (收单机构) as its own process: a merchant's terminal hands it a scanned
resident payment code, it charges the platform's paycode charge API as its operator account
and answers with the platform's outcome, keeping one masked record per payment for its
daily file."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from tests.e2e.online_world import _start_peer
from tests.e2e.paycodes_world import Bank, bank_peer, fund, payer, shop
from tests.support import Account

from sscard import db
from sscard.iam.login import service as login_service
from sscard.iam.models import LoginAttempt
from sscard.iam.operators import service as operators_service


@pytest.fixture(scope="module")
def bank(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    yield from bank_peer(tmp_path_factory.mktemp("acquirer-bank"))


@pytest.fixture(scope="module")
def acquirer_account(make_account: Callable[..., Account]) -> Account:
    return make_account("clerk")


@pytest.fixture(scope="module")
def acquirer(
    bank: Bank, acquirer_account: Account, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    account = acquirer_account
    logs = tmp_path_factory.mktemp("acquirer")
    env = {
        "PEER_DATA_DIR": str(logs / "data"),
        "PEER_ACQUIRER_PLATFORM_URL": bank.server.url,
        "PEER_ACQUIRER_USERNAME": account.username,
        "PEER_ACQUIRER_PASSWORD": account.password,
    }
    url, process = _start_peer("acquirer", logs, env)
    yield url
    process.terminate()
    process.wait(timeout=15)


def _code(bank: Bank, token: str) -> str:
    with bank.server.client(token) as http:
        return str(http.post("/api/v1/payments/paycodes").json()["code"])


def _pay(acquirer: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{acquirer}/pay", json=body, timeout=60)


def test_the_acquirer_forwards_a_scanned_code_and_keeps_a_masked_record(
    bank: Bank, acquirer: str
) -> None:
    who, till = payer(), shop()
    fund(bank, who, 100_000)
    code = _code(bank, who.resident.token)
    number = f"AQ{secrets.token_hex(6)}"
    body = {
        "merchant": till.code,
        "terminal": till.terminal,
        "code": code,
        "amount_fen": 2_580,
        "merchant_order_no": number,
    }
    paid = _pay(acquirer, **body)
    assert paid.status_code == 200, paid.text
    out = paid.json()
    assert out["status"] == "paid" and out["platform"]["amount_fen"] == 2_580
    assert out["order_no"].startswith("P") and out["acquirer_ref"].startswith("A")
    again = _pay(acquirer, **body)
    assert again.json()["order_no"] == out["order_no"]
    reused = _pay(acquirer, **{**body, "merchant_order_no": f"AQ{secrets.token_hex(6)}"})
    assert reused.status_code == 409 and reused.json()["status"] == "refused"
    records = httpx.get(f"{acquirer}/records").json()["items"]
    mine = [r for r in records if r["merchant"] == till.code]
    assert [r["status"] for r in mine] == ["paid", "paid", "refused"]
    assert all(code not in str(r) for r in mine)
    assert mine[0]["code_masked"] == code[:6] + "*" * 9 + code[-4:]
    assert mine[0]["order_no"] == out["order_no"] and mine[2]["order_no"] is None


def _sign_ins(username: str) -> int:
    with db.transaction() as session:
        stmt = select(func.count()).where(
            LoginAttempt.username == username, LoginAttempt.succeeded.is_(True)
        )
        return int(session.scalar(stmt) or 0)


def test_charges_finding_the_token_revoked_sign_in_once_between_them(
    bank: Bank, acquirer: str, acquirer_account: Account
) -> None:
    till = shop()
    payers = [payer() for _ in range(6)]
    for who in payers:
        fund(bank, who, 10_000)
    codes = [_code(bank, who.resident.token) for who in payers]
    _pay(
        acquirer,
        merchant=till.code,
        terminal=till.terminal,
        code=codes[0],
        amount_fen=100,
        merchant_order_no=f"AQ{secrets.token_hex(6)}",
    )
    with db.transaction() as session:
        operator = operators_service.get_operator(session, username=acquirer_account.username)
        login_service.revoke_all_tokens(session, operator=operator)
    before = _sign_ins(acquirer_account.username)

    def pay(code: str) -> int:
        body = {"merchant": till.code, "terminal": till.terminal, "code": code, "amount_fen": 100}
        return _pay(acquirer, **body, merchant_order_no=f"AQ{secrets.token_hex(6)}").status_code

    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(pay, codes[1:]))
    assert answers == [200] * 5
    assert _sign_ins(acquirer_account.username) == before + 1
