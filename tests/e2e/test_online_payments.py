"""Online banking end to end: the platform, the bank and the social insurance system each
run as their own process. An order is sent to the bank's pay page with a signed request,
paid there, and becomes paid only when the bank's signed notice arrives (or a status query
finds it); a forged notice is refused, a replay answers the same and posts nothing."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from tests.e2e.online_world import (
    OnlineWorld,
    bank_account,
    confirm_on_bank_page,
    online_order,
    online_world,
    until,
)
from tests.support import Account, login

from sscard import db
from sscard.audit.models import AuditEntry
from sscard.crypto import pem, primitives
from sscard.kit.context import SYSTEM
from sscard.payments.ledger import service as ledger_service
from sscard.payments.ledger import verify
from sscard.payments.online import signing
from sscard.payments.orders import service as orders_service

BANK = "BANK-ONL"


@pytest.fixture(scope="module")
def world(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OnlineWorld]:
    yield from online_world(tmp_path_factory.mktemp("online"), [BANK], engine.dialect.name)


@pytest.fixture(scope="module")
def clerk(world: OnlineWorld, make_account: Callable[..., Account]) -> Iterator[httpx.Client]:
    with world.server.client(login(world.server, make_account("clerk"))) as http:
        yield http


def _order_status(order_no: str) -> str:
    with db.transaction() as session:
        return str(orders_service.get_order(session, order_no=order_no, actor=SYSTEM).status)


def _start(clerk: httpx.Client, world: OnlineWorld, fen: int, hold: bool) -> tuple[str, str]:
    httpx.put(f"{world.bank}/control/paypage", json={"hold_notices": hold}).raise_for_status()
    order_no = online_order(fen, f"ONL{secrets.token_hex(6)}")
    started = clerk.post(
        f"/api/v1/payments/online/orders/{order_no}/start", json={"bank_code": BANK}
    )
    assert started.status_code == 200, started.text
    return order_no, started.json()["pay_url"]


def _notice(world: OnlineWorld, order_no: str) -> dict[str, Any]:
    return dict(httpx.get(f"{world.bank}/control/paypage/{order_no}").json())


def _merchant_credits(order_no: str) -> int:
    with db.transaction() as session:
        page = ledger_service.list_transfers(
            session, actor=SYSTEM, account="merchant:SI370800", page=1, page_size=200
        )
    return sum(1 for t in page.items if order_no in t.ref)


def test_the_return_alone_does_not_pay_and_the_signed_notice_does_once(
    world: OnlineWorld, clerk: httpx.Client
) -> None:
    account = bank_account(world, BANK, "B00000001", 100_000)
    order_no, pay_url = _start(clerk, world, 30_000, hold=True)
    assert pay_url.startswith(f"{world.bank}/paypage?req=")
    back = confirm_on_bank_page(pay_url, account)
    assert back.status_code == 303
    assert back.headers["location"] == (
        f"{world.server.url}/wallet/online-result?order_no={order_no}"
    )
    shown = clerk.get(f"/api/v1/payments/online/orders/{order_no}").json()
    assert shown["status"] == "redirected" and _order_status(order_no) != "paid"
    first = httpx.post(f"{world.bank}/control/paypage/{order_no}/notify").json()
    assert first == {"status_code": 200}
    assert _order_status(order_no) == "paid"
    paid = clerk.get(f"/api/v1/payments/online/orders/{order_no}").json()
    assert paid["status"] == "paid" and paid["bank_ref"] == _notice(world, order_no)["bank_ref"]
    credits = _merchant_credits(order_no)
    assert credits >= 1
    record = _notice(world, order_no)
    replayed = world.server.client().post(
        "/api/v1/payments/online/notify",
        content=record["notice"].encode(),
        headers={signing.SIGNATURE_HEADER: record["signature"]},
    )
    assert replayed.status_code == 200 and replayed.json()["outcome"] == "accepted"
    assert _merchant_credits(order_no) == credits


def test_a_forged_notice_is_refused_and_logged_and_pays_nothing(
    world: OnlineWorld, clerk: httpx.Client
) -> None:
    account = bank_account(world, BANK, "B00000002", 100_000)
    order_no, pay_url = _start(clerk, world, 20_000, hold=True)
    confirm_on_bank_page(pay_url, account)
    genuine = _notice(world, order_no)
    forger = primitives.SM2PrivateKey.generate()
    body = genuine["notice"].encode()
    with world.server.client() as http:
        forged = http.post(
            "/api/v1/payments/online/notify",
            content=body,
            headers={signing.SIGNATURE_HEADER: forger.sign(body).hex()},
        )
        unsigned = http.post("/api/v1/payments/online/notify", content=body)
    assert forged.status_code == 400 and forged.json()["error"] == "notice_refused"
    assert "签名无效" in forged.json()["detail"] and unsigned.status_code == 400
    assert _order_status(order_no) != "paid"
    assert "online notice refused: bad signature" in world.server.log.read_text(errors="replace")


def test_a_genuine_notice_with_another_amount_is_refused_every_time(
    world: OnlineWorld, clerk: httpx.Client
) -> None:
    account = bank_account(world, BANK, "B00000003", 100_000)
    order_no, pay_url = _start(clerk, world, 15_000, hold=True)
    confirm_on_bank_page(pay_url, account)
    notice = signing.parse(_notice(world, order_no)["notice"].encode(), signing.NOTICE_FIELDS)
    changed = signing.canonical({**notice, "amount_fen": 1, "notice_id": f"{BANK}-x{order_no}"})
    key = pem.load_private_key((world.data / "bank" / "bank-sign.key").read_bytes())
    headers = {signing.SIGNATURE_HEADER: key.sign(changed).hex()}
    with world.server.client() as http:
        answers = [
            http.post("/api/v1/payments/online/notify", content=changed, headers=headers)
            for _ in range(2)
        ]
    assert [a.status_code for a in answers] == [409, 409]
    assert answers[0].json() == answers[1].json() and "金额" in answers[0].json()["reason"]
    assert _order_status(order_no) != "paid"


def test_a_status_query_pays_an_order_whose_notice_never_came(
    world: OnlineWorld, clerk: httpx.Client
) -> None:
    account = bank_account(world, BANK, "B00000004", 100_000)
    order_no, pay_url = _start(clerk, world, 10_000, hold=True)
    waiting = clerk.post(f"/api/v1/payments/online/orders/{order_no}/query")
    assert waiting.status_code == 200 and waiting.json()["status"] == "redirected"
    confirm_on_bank_page(pay_url, account)
    queried = clerk.post(f"/api/v1/payments/online/orders/{order_no}/query")
    assert queried.json()["status"] == "paid" and _order_status(order_no) == "paid"


def test_the_bank_notice_arrives_by_itself_after_the_payment(
    world: OnlineWorld, clerk: httpx.Client
) -> None:
    account = bank_account(world, BANK, "B00000005", 100_000)
    order_no, pay_url = _start(clerk, world, 5_000, hold=False)
    confirm_on_bank_page(pay_url, account)
    until(lambda: _order_status(order_no) == "paid")
    again = clerk.post(f"/api/v1/payments/online/orders/{order_no}/start", json={"bank_code": BANK})
    assert again.status_code == 409 and again.json()["error"] == "online_payment_refused"


def test_a_notice_after_the_order_was_closed_still_pays_it_for_the_money_has_moved(
    world: OnlineWorld, clerk: httpx.Client
) -> None:
    account = bank_account(world, BANK, "B00000006", 100_000)
    order_no, pay_url = _start(clerk, world, 7_700, hold=True)
    confirm_on_bank_page(pay_url, account)  # the resident pays while the order is open ...
    closed = clerk.post(f"/api/v1/payments/orders/{order_no}/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"  # ... it times out
    first = httpx.post(f"{world.bank}/control/paypage/{order_no}/notify").json()
    assert first == {"status_code": 200}
    assert _order_status(order_no) == "paid" and _merchant_credits(order_no) == 1
    with db.transaction() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.subject_id == order_no)
        ).all()
    assert "payments.order.paid_late" in actions and "payments.order.paid" not in actions
    refund = clerk.post(
        f"/api/v1/payments/orders/{order_no}/refunds",
        json={"amount_fen": 100, "reason": "商户取消", "refund_no": f"RF{order_no[-12:]}"},
    )
    assert refund.status_code == 201 and refund.json()["status"] == "done"
    assert _order_status(order_no) == "partially_refunded"


def _bank_balance(world: OnlineWorld, card_number: str, account: str) -> int:
    body = {"bank_code": BANK, "card_number": card_number, "account": account}
    return int(httpx.post(f"{world.bank}/accounts/balance", json=body).json()["balance_fen"])


def _refund(clerk: httpx.Client, order_no: str, refund_no: str, fen: int) -> httpx.Response:
    return clerk.post(
        f"/api/v1/payments/orders/{order_no}/refunds",
        json={"amount_fen": fen, "reason": "商户取消", "refund_no": refund_no},
    )


def test_an_online_bank_order_is_refunded_in_parts_back_to_the_paying_account(
    world: OnlineWorld, clerk: httpx.Client
) -> None:
    account = bank_account(world, BANK, "B00000008", 100_000)
    order_no, pay_url = _start(clerk, world, 30_000, hold=False)
    confirm_on_bank_page(pay_url, account)
    until(lambda: _order_status(order_no) == "paid")
    assert _bank_balance(world, "B00000008", account) == 70_000
    too_much = _refund(clerk, order_no, f"RA{order_no[-12:]}", 30_001)
    assert too_much.status_code == 409
    assert too_much.json()["fields"][0]["field"] == "amount_fen"
    part = _refund(clerk, order_no, f"RB{order_no[-12:]}", 10_000)
    assert part.status_code == 201 and part.json()["status"] == "done"
    again = _refund(clerk, order_no, f"RB{order_no[-12:]}", 10_000)
    assert again.json() == part.json()
    assert _bank_balance(world, "B00000008", account) == 80_000
    assert _order_status(order_no) == "partially_refunded"
    rest = _refund(clerk, order_no, f"RC{order_no[-12:]}", 20_000)
    assert rest.status_code == 201 and rest.json()["status"] == "done"
    assert _order_status(order_no) == "refunded"
    assert _bank_balance(world, "B00000008", account) == 100_000
    with db.transaction() as session:
        page = ledger_service.list_transfers(
            session, actor=SYSTEM, account="merchant:SI370800", page=1, page_size=200
        )
    refs = {t.ref for t in page.items}
    assert {f"ref:RB{order_no[-12:]}:w", f"ref:RC{order_no[-12:]}:w"} <= refs
    with db.transaction() as session:
        report = verify.verify_ledger(session, progress=lambda *_: None)
    assert report.ok, report.reason


def test_the_cli_writes_the_platform_key_for_the_banks(tmp_path: Path, world: OnlineWorld) -> None:
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sscard.cli.main",
            "payments",
            "online",
            "publish",
            "--dir",
            str(tmp_path),
        ],
        env={**os.environ, **world.env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    written = (tmp_path / "370800-pay.pem").read_text()
    assert written == (world.data / "trust" / "370800-pay.pem").read_text()


def test_the_bank_refusing_an_online_refund_fails_it_and_releases_the_amount(
    world: OnlineWorld, clerk: httpx.Client
) -> None:
    account = bank_account(world, BANK, "B00000009", 100_000)
    order_no, pay_url = _start(clerk, world, 5_000, hold=False)
    confirm_on_bank_page(pay_url, account)
    until(lambda: _order_status(order_no) == "paid")
    body = {"bank_code": BANK, "card_number": "B00000009", "account": account}
    httpx.post(f"{world.bank}/accounts/deactivate", json=body).raise_for_status()
    refused = _refund(clerk, order_no, f"RD{order_no[-12:]}", 5_000)
    assert refused.status_code == 201 and refused.json()["status"] == "failed"
    assert _order_status(order_no) == "paid"
    httpx.post(f"{world.bank}/accounts/activate", json=body).raise_for_status()
    whole = _refund(clerk, order_no, f"RE{order_no[-12:]}", 5_000)
    assert whole.json()["status"] == "done" and _order_status(order_no) == "refunded"


def test_an_online_refund_the_bank_did_not_answer_stays_pending_until_resolved(
    world: OnlineWorld, clerk: httpx.Client
) -> None:
    account = bank_account(world, BANK, "B00000010", 100_000)
    order_no, pay_url = _start(clerk, world, 6_000, hold=False)
    confirm_on_bank_page(pay_url, account)
    until(lambda: _order_status(order_no) == "paid")
    fault = {"operation": "paypage_refund", "mode": "unavailable"}
    httpx.put(f"{world.bank}/control/faults", json=fault).raise_for_status()
    try:
        waiting = _refund(clerk, order_no, f"RP{order_no[-12:]}", 6_000)
        assert waiting.json()["status"] == "pending"
    finally:
        httpx.delete(f"{world.bank}/control/faults").raise_for_status()
    assert _bank_balance(world, "B00000010", account) == 94_000
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "sscard.cli.main", "payments", "orders", "resolve"],
        env={**os.environ, **world.env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert _order_status(order_no) == "refunded"
    assert _bank_balance(world, "B00000010", account) == 100_000
