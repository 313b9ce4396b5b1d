"""Orders end to end: the bank peer and the platform each run as their own process; a clerk
creates, pays (card at the counter), refunds and closes orders over HTTP; and the platform
killed (SIGKILL) while the bank is answering a debit leaves an order that ``sscard payments
orders resolve`` settles after the restart: paid once, debited once, the ledger clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from tests.e2e.test_instant_e2e import Peer, _start_peer
from tests.e2e.test_registry_pages import csrf, pages_as
from tests.integration.payments.orders_support import (  # noqa: F401
    Bank,
    PayCard,
    active_card,
    new_merchant,
    pay_numbers,
)
from tests.support import Account, LiveServer, login, start_server, stop_server

from sscard import db
from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType
from sscard.iam.schemas import InstitutionCreate

pytestmark = pytest.mark.usefixtures("pay_numbers")
ORDERS = "/api/v1/payments/orders"


@dataclass
class World:
    server: LiveServer
    bank: Bank
    bank_process: Peer
    env: dict[str, str]
    logs: Path


@pytest.fixture(scope="module")
def world(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    logs = tmp_path_factory.mktemp("orders-e2e")
    bank = _start_peer("bank", logs / "bank.log")
    env = {"SSCARD_BANK_URLS": json.dumps({"*": bank.url}), "SSCARD_PEER_TIMEOUT_SECONDS": "20"}
    server = start_server(logs / f"server-{engine.dialect.name}.log", extra_env=env)
    yield World(server, Bank(bank.url), bank, env, logs)
    stop_server(server)
    bank.process.terminate()
    try:
        bank.process.wait(timeout=15)
    except subprocess.TimeoutExpired:  # still holding a debit a test made slow on purpose
        bank.process.kill()
        bank.process.wait(timeout=15)


@pytest.fixture
def clerk(world: World, make_account: Callable[..., Account]) -> Iterator[httpx.Client]:
    with world.server.client(login(world.server, make_account("clerk"))) as http:
        yield http


def _hall(region: str) -> str:
    code = f"HL{os.urandom(3).hex().upper()}"
    with db.transaction() as session:
        iam_service.create_institution(
            session,
            data=InstitutionCreate(
                code=code, name="区县大厅", type=InstitutionType.service_hall, region_code=region
            ),
        )
    return code


def _order(http: httpx.Client, merchant: str, amount_fen: int, number: str) -> dict[str, Any]:
    answer = http.post(
        ORDERS,
        json={
            "merchant_code": merchant,
            "merchant_order_no": number,
            "amount_fen": amount_fen,
            "category": "medicine",
            "channel": "counter",
            "subject": "感冒药",
        },
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _funded(world: World, amount_fen: int) -> PayCard:
    card = active_card()
    world.bank.fund(card, amount_fen)
    return card


def test_a_clerk_creates_pays_lists_and_refunds_an_order_over_http(
    world: World, clerk: httpx.Client
) -> None:
    merchant, card = new_merchant(), _funded(world, 10_000)
    order = _order(clerk, merchant, 2580, "INV-E2E-1")
    assert _order(clerk, merchant, 2580, "INV-E2E-1")["order_no"] == order["order_no"]
    other = clerk.post(
        ORDERS,
        json={"merchant_code": merchant, "merchant_order_no": "INV-E2E-1", "amount_fen": 1},
    )
    assert other.status_code == 409
    assert other.json()["fields"][0]["field"] == "merchant_order_no"
    zero = clerk.post(
        ORDERS, json={"merchant_code": merchant, "merchant_order_no": "Z1", "amount_fen": 0}
    )
    assert zero.status_code == 422 and zero.json()["fields"][0]["field"] == "amount_fen"
    no = order["order_no"]
    unknown = clerk.post(f"{ORDERS}/{no}/pay-card", json={"card_number": "Z99999999"})
    assert unknown.status_code == 422 and unknown.json()["fields"][0]["field"] == "card_number"
    paid = clerk.post(f"{ORDERS}/{no}/pay-card", json={"card_number": card.card_number})
    assert paid.status_code == 200, paid.text
    assert (paid.json()["status"], paid.json()["status_name"]) == ("paid", "已支付")
    assert card.card_number not in paid.text
    listed = clerk.get(ORDERS, params={"merchant_code": merchant, "status": "paid"})
    assert listed.headers["X-Total-Count"] == "1"
    assert [o["order_no"] for o in listed.json()] == [no]
    refund = clerk.post(
        f"{ORDERS}/{no}/refunds",
        json={"amount_fen": 580, "reason": "退一盒", "refund_no": f"E2E{no[-10:]}"},
    )
    assert refund.status_code == 201 and refund.json()["status"] == "done", refund.text
    too_much = clerk.post(
        f"{ORDERS}/{no}/refunds", json={"amount_fen": 2001, "reason": "多退", "refund_no": "X2"}
    )
    assert too_much.status_code == 409 and too_much.json()["fields"][0]["field"] == "amount_fen"
    refunds = clerk.get(f"{ORDERS}/{no}/refunds").json()
    assert [(r["amount_fen"], r["status_name"]) for r in refunds] == [(580, "已退款")]
    assert clerk.get(f"{ORDERS}/{no}").json()["status"] == "partially_refunded"
    assert clerk.post(f"{ORDERS}/{no}/close").status_code == 409
    assert world.bank.balance(card) == 10_000 - 2580 + 580


def test_a_refused_debit_answers_the_order_failed_with_the_banks_reason(
    world: World, clerk: httpx.Client
) -> None:
    card = _funded(world, 100)
    order = _order(clerk, new_merchant(), 2580, "INV-E2E-2")
    paid = clerk.post(
        f"{ORDERS}/{order['order_no']}/pay-card", json={"card_number": card.card_number}
    )
    assert paid.status_code == 200
    assert paid.json()["status"] == "failed"
    assert "余额不足" in paid.json()["failure_reason"]


def test_another_districts_clerk_neither_sees_nor_pays_the_order(
    world: World, clerk: httpx.Client, make_account: Callable[..., Account]
) -> None:
    order = _order(clerk, new_merchant("370811"), 100, "INV-E2E-3")
    account = make_account("clerk", institution=_hall("370812"))
    with world.server.client(login(world.server, account)) as other:
        no = order["order_no"]
        assert other.get(f"{ORDERS}/{no}").status_code == 404
        assert other.post(f"{ORDERS}/{no}/close").status_code == 404
        assert (
            other.post(f"{ORDERS}/{no}/pay-card", json={"card_number": "A12345678"}).status_code
            == 404
        )
        listed = other.get(ORDERS)
        assert no not in listed.text
        assert other.post(f"{ORDERS}/{no}/resolve").status_code == 404


def test_an_order_left_paying_by_a_silent_bank_is_settled_by_asking_it_once(
    world: World, clerk: httpx.Client, make_account: Callable[..., Account]
) -> None:
    card = _funded(world, 10_000)
    no = _order(clerk, new_merchant(), 1_234, "INV-E2E-4")["order_no"]
    asked = clerk.post(f"{ORDERS}/{no}/resolve")
    assert asked.status_code == 200 and asked.json()["status"] == "created"  # nothing to ask
    only = [card.card_number]
    world.bank.fault("debit", "apply_then_fail", times=1, card_numbers=only)
    world.bank.fault("status", "unavailable")
    try:
        paying = clerk.post(f"{ORDERS}/{no}/pay-card", json={"card_number": card.card_number})
        assert paying.status_code == 200 and paying.json()["status"] == "paying", paying.text
    finally:
        world.bank.clear()
    with pages_as(world.server, make_account("clerk")) as http:
        shown = http.get(f"/payments/orders/{no}")
        assert shown.status_code == 200 and 'id="do-resolve"' in shown.text
        asked = http.post(f"/payments/orders/{no}/resolve", data={"csrf_token": csrf(http)})
        assert asked.status_code == 303, asked.text
        after = http.get(asked.headers["location"])
        assert "已向银行查询支付结果" in after.text and "已支付" in after.text
        assert 'id="do-resolve"' not in after.text
    resolved = clerk.get(f"{ORDERS}/{no}")
    assert (resolved.json()["status"], resolved.json()["status_name"]) == ("paid", "已支付")
    again = clerk.post(f"{ORDERS}/{no}/resolve")
    assert again.json()["status"] == "paid"
    assert world.bank.balance(card) == 10_000 - 1_234


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sscard.cli.main", *args],
        env={**os.environ, "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_platform_killed_during_the_debit_is_settled_by_resolve_after_restart(
    world: World, clerk: httpx.Client
) -> None:
    card = _funded(world, 10_000)
    order = _order(clerk, new_merchant(), 1234, "INV-E2E-KILL")
    no = order["order_no"]
    world.bank.fault("debit", "slow", seconds=30, times=1)
    doomed = start_server(world.logs / "doomed.log", extra_env=world.env)
    token = clerk.headers["Authorization"]

    def pay() -> None:
        with httpx.Client(base_url=doomed.url, headers={"Authorization": token}) as http:
            try:
                http.post(
                    f"{ORDERS}/{no}/pay-card", json={"card_number": card.card_number}, timeout=60
                )
            except httpx.HTTPError:
                pass  # the platform is killed under the call

    caller = threading.Thread(target=pay)
    caller.start()
    deadline = time.monotonic() + 30
    while not world.bank.payments(no):
        assert time.monotonic() < deadline, "the bank never received the debit"
        time.sleep(0.1)
    doomed.process.kill()
    doomed.process.wait(timeout=15)
    caller.join(timeout=30)
    assert clerk.get(f"{ORDERS}/{no}").json()["status"] == "paying"
    restarted = start_server(world.logs / "restarted.log", extra_env=world.env)
    try:
        resolved = _cli(world.env, "payments", "orders", "resolve", no)
        assert resolved.returncode == 0, resolved.stderr
        assert "已支付" in resolved.stdout
        again = _cli(world.env, "payments", "orders", "resolve", no)
        assert again.returncode == 0 and "已支付" in again.stdout
        with restarted.client(token.split()[1]) as http:
            shown = http.get(f"{ORDERS}/{no}").json()
        assert (shown["status"], shown["paid_fen"]) == ("paid", 1234)
    finally:
        stop_server(restarted)
    assert [p["status"] for p in world.bank.payments(no)] == ["done"]
    assert world.bank.balance(card) == 10_000 - 1234
    verified = _cli(world.env, "ledger", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_an_operator_lists_shows_refunds_and_closes_orders_from_the_command_line(
    world: World, clerk: httpx.Client
) -> None:
    merchant, card = new_merchant(), _funded(world, 10_000)
    paid = _order(clerk, merchant, 1000, "INV-CLI-1")["order_no"]
    unpaid = _order(clerk, merchant, 300, "INV-CLI-2")["order_no"]
    assert clerk.post(f"{ORDERS}/{paid}/pay-card", json={"card_number": card.card_number})
    listed = _cli(world.env, "payments", "orders", "list", "--merchant", merchant)
    assert listed.returncode == 0, listed.stderr
    assert paid in listed.stdout and unpaid in listed.stdout and "共 2 笔订单" in listed.stdout
    assert "北京时间" in listed.stdout
    only_paid = _cli(
        world.env, "payments", "orders", "list", "--merchant", merchant, "--status", "paid"
    )
    assert "共 1 笔订单" in only_paid.stdout
    shown = _cli(world.env, "payments", "orders", "show", paid)
    assert "已支付" in shown.stdout and card.card_number not in shown.stdout
    refund = ("payments", "orders", "refund", paid, "--reason", "退一盒")
    done = _cli(world.env, *refund, "--amount", "1.50")
    assert done.returncode == 0 and "1.50 元，已退款" in done.stdout, done.stderr
    too_much = _cli(world.env, *refund, "--amount", "100")
    assert too_much.returncode == 1 and "可退金额 8.50 元" in too_much.stderr
    bad = _cli(world.env, *refund, "--amount", "1.234")
    assert bad.returncode == 1 and "amount" in bad.stderr
    assert "已关闭" in _cli(world.env, "payments", "orders", "close", unpaid).stdout
    again = _cli(world.env, "payments", "orders", "close", paid)
    assert again.returncode == 1 and "不能关闭" in again.stderr
    assert "退款" in _cli(world.env, "payments", "orders", "show", paid).stdout
