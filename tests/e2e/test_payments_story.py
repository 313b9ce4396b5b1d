"""The payments story end to end, over real HTTP to a live server and real peer processes
(bank, social insurance, medical): a resident pays at a pharmacy with the wallet's payment
code, pays a merchant's QR, is refunded, settles a hospital bill split three ways, receives
a pension on the card and pays a contribution on the bank's page; the day's bank file is
fetched from the bank peer with one planted difference, imported, the difference found and
resolved; ``sscard ledger verify`` is clean.

Clearing: a committed clearing of today would collide with the other tests that clear
today, and the live server's clock (another process) cannot be moved past the cut-off. So
the server is asked to clear today and answers that the day is not over (409), and the
day is then cleared in process with the clearing clock just past the cut-off, in a session
that is rolled back (as tests/integration/payments/test_recon.py does), checking the
story's merchant and bank figures. Reconciliation needs no cleared day: it runs for real."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from tests.e2e.online_world import OnlineWorld, confirm_on_bank_page, online_world, until
from tests.e2e.paycodes_world import CITY, ECARD_PIN, Bank, Payer, fund, payer, shop
from tests.e2e.test_cli import sscard
from tests.e2e.test_contributions import YEAR, _worker
from tests.e2e.test_disbursement_e2e import HEADER, _exchange_keys
from tests.e2e.test_ecard_pages import csrf
from tests.e2e.test_medical_api import EXAM, _institution
from tests.e2e.test_paycodes_api import _code
from tests.integration.payments.medical_support import medical_peer
from tests.support import Account, LiveServer, login

from sscard import db
from sscard.iam.catalog import InstitutionType
from sscard.kit.context import SYSTEM, acting
from sscard.payments.clearing import rules
from sscard.payments.clearing import service as clearing_service
from sscard.payments.merchants import qr_service
from sscard.payments.online import keys as online_keys

__all__ = ["medical_peer"]
PAY = "/api/v1/payments"


@pytest.fixture(scope="module")
def world(
    engine: Engine, medical_peer: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OnlineWorld]:
    """The online world (bank and social peers) with the medical peer beside them, and
    the city's and the bank's exchange keys swapped for the pension files."""
    logs = tmp_path_factory.mktemp("payments-story")
    yield from online_world(
        logs, [], engine.dialect.name, extra_env={"SSCARD_MEDICAL_URL": medical_peer}
    )


def _balance(world: OnlineWorld, who: Payer) -> int:
    body = {"bank_code": who.bank_code, "card_number": who.card_number, "account": who.account}
    answer = httpx.post(f"{world.bank}/accounts/balance", json=body)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["balance_fen"])


def _ok(answer: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    return dict(answer.json())


def _clear_today_rolled_back(engine: Engine, day: date) -> Any:
    """Today cleared with the clearing clock past its cut-off, in a session rolled back
    afterwards (nothing of it stays for the tests that clear today)."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    patch = pytest.MonkeyPatch()
    try:
        for table in ("payments_clearing_line", "payments_clearing_day"):
            session.execute(text(f"DELETE FROM {table} WHERE day = :d"), {"d": day})  # noqa: S608
        end = rules.window(day, clearing_service.cutoff())[1]
        patch.setattr(clearing_service, "utcnow", lambda: end + timedelta(seconds=1))
        return clearing_service.run_day(session, day=day, actor=SYSTEM)
    finally:
        patch.undo()
        session.close()
        outer.rollback()
        connection.close()


def test_a_residents_day_of_payments_is_cleared_reconciled_and_the_ledger_is_clean(
    world: OnlineWorld,
    medical_peer: str,
    engine: Engine,
    make_account: Callable[..., Account],
) -> None:
    server: LiveServer = world.server
    who = payer()
    fund(Bank(world.bank, server), who, 500_000)
    with db.transaction() as session:  # the payer's bank signs its pay-page notices
        online_keys.import_bank_key(
            session,
            bank_code=who.bank_code,
            pem_text=(world.data / "trust" / "bank.pem").read_text(),
        )
    _exchange_keys(world.data / "trust")
    balance = 500_000
    clerk = server.client(login(server, make_account("clerk")))

    # 1. Pharmacy: the wallet's payment code, charged by the pharmacy's terminal.
    pharmacy = shop()
    code = _code(Bank(world.bank, server), who)
    with server.client(pharmacy.token) as terminal:
        charged = _ok(
            terminal.post(
                f"{PAY}/paycodes/charge",
                json={
                    "merchant_code": pharmacy.code,
                    "code": code,
                    "amount": "36.80",
                    "merchant_order_no": f"SO{secrets.token_hex(6)}",
                },
            )
        )
    assert (charged["status"], charged["amount_fen"], charged["channel"]) == (
        "paid",
        3680,
        "paycode",
    )
    pharmacy_order = charged["order_no"]
    balance -= 3680
    assert _balance(world, who) == balance

    # 2. Merchant QR (主扫): the resident previews the shop's dynamic QR and pays with the PIN.
    store = shop(mcc="5411", name="济宁百货大楼超市")
    with acting(SYSTEM), db.transaction() as session:
        payload = qr_service.merchant_qr(
            session, merchant_id=store.merchant_id, actor=CITY, amount="58.20", bill_number="XS001"
        ).payload
    with server.client(who.resident.token) as wallet:
        shown = _ok(wallet.post(f"{PAY}/merchant-qr/preview", json={"payload": payload}))
        assert (shown["merchant_name"], shown["amount"]) == ("济宁百货大楼超市", "58.20")
        qr_paid = _ok(
            wallet.post(f"{PAY}/merchant-qr/pay", json={"payload": payload, "pin": ECARD_PIN})
        )
    assert qr_paid["status"] == "paid" and qr_paid["merchant_order_no"] == "XS001"
    qr_order = qr_paid["order_no"]
    balance -= 5820
    assert _balance(world, who) == balance

    # 3. Part of the pharmacy payment refunded through the orders API, credited at the bank.
    refund_no = f"RF{secrets.token_hex(6)}"
    refunded = _ok(
        clerk.post(
            f"{PAY}/orders/{pharmacy_order}/refunds",
            json={"amount_fen": 1280, "reason": "退一盒药", "refund_no": refund_no},
        ),
        201,
    )
    assert refunded["status"] == "done", refunded
    order = _ok(clerk.get(f"{PAY}/orders/{pharmacy_order}"))
    assert (order["status"], order["refunded_fen"]) == ("partially_refunded", 1280), order
    balance += 1280
    assert _balance(world, who) == balance

    # 4. Hospital: the bill split between the pool, the personal account and cash.
    hospital = shop(mcc="8062", name="济宁市第一人民医院")
    enrol = {"id_number": who.resident.id_number, "insurance_type": "employee"}
    enrolled = httpx.post(
        f"{medical_peer}/control/persons", json={**enrol, "personal_balance_fen": 1000}
    )
    assert enrolled.status_code == 201, enrolled.text
    desk = server.client(
        login(
            server,
            make_account(
                "medical_agent", institution=_institution(InstitutionType.medical, "370811")
            ),
        )
    )
    bill = {
        "merchant_code": hospital.code,
        "visit_kind": "outpatient",
        "card_number": who.card_number,
        "items": [EXAM],
    }
    settled = _ok(desk.post(f"{PAY}/medical/settlements", json=bill), 201)
    assert settled["status"] == "settled", settled
    assert (settled["pool_fen"], settled["personal_fen"], settled["cash_fen"]) == (
        8500,
        1000,
        20500,
    )
    balance -= 20500
    assert _balance(world, who) == balance
    ledger = server.client(login(server, make_account("auditor")))
    legs = {
        "pool:post": ("medical-pool", 8500),
        "personal:post": (f"medical-personal:{settled['person_id']}", 1000),
        "b:post": (f"bank-clearing:{who.bank_code}", 20500),
    }
    for leg, (debit, amount) in legs.items():
        made = _ok(ledger.get(f"{PAY}/ledger/transfers/med:{settled['number']}:{leg}"))
        assert (made["debit_account"], made["amount"]) == (debit, amount), made

    # 5. Pension: a disbursement batch with this holder, paid onto the card's bank account.
    csv = HEADER + f"{who.resident.id_number},测试人员,1850.00,养老金,202612\n"
    created = _ok(
        clerk.post(
            f"{PAY}/disbursements", files={"file": ("pension.csv", csv.encode(), "text/csv")}
        ),
        201,
    )
    batch_no = created["batch_no"]
    assert _ok(clerk.post(f"{PAY}/disbursements/{batch_no}/send"))["files_sent"] == 1
    fetched = _ok(clerk.post(f"{PAY}/disbursements/{batch_no}/fetch"))
    assert (fetched["lines_paid"], fetched["lines_failed"]) == (1, 0)
    balance += 185_000
    assert _balance(world, who) == balance
    assert _ok(clerk.get(f"{PAY}/disbursements/invariant"))["ok"]

    # 6. Contribution: paid on the bank's pay page, then reported to the social system.
    httpx.put(f"{world.bank}/control/paypage", json={"hold_notices": False})
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=60) as http:
        http.cookies.set("sscard_wallet", who.resident.token, path="/wallet")
        http.get("/wallet/contributions")
        started = http.post(
            "/wallet/contributions",
            data={
                "csrf_token": csrf(http),
                "year": str(YEAR),
                "grade_fen": "30000",
                "channel": "online_bank",
                "bank_code": who.bank_code,
            },
        )
        assert started.status_code == 303, started.text
        back = confirm_on_bank_page(started.headers["location"], who.account)
        assert back.status_code in (302, 303), back.text
        until(lambda: "已支付" in http.get("/wallet/contributions").text)
    balance -= 30_000
    assert _balance(world, who) == balance
    _worker(world)
    recorded = httpx.post(
        f"{world.social}/contributions/query", json={"id_number": who.resident.id_number}
    ).json()["items"]
    assert [(r["year"], r["amount_fen"]) for r in recorded] == [(YEAR, 30_000)]

    # 7. The day: the server will not clear today before its cut-off ...
    day = clearing_service.current_day()
    admin = server.client(login(server, make_account("admin")))
    early = admin.post(f"{PAY}/clearing/run", json={"day": f"{day:%Y-%m-%d}"})
    assert early.status_code == 409 and "尚未日切" in early.json()["detail"]
    # ... the bank's file of the day, one payment (the QR one) planted as missing ...
    plant = {"ref": qr_order, "drop": True}
    assert httpx.put(f"{world.bank}/control/dailyfile/plant", json=plant).status_code == 204
    try:
        daily = httpx.get(
            f"{world.bank}/payments/dailyfile",
            params={"bank_code": who.bank_code, "day": f"{day:%Y%m%d}"},
        )
    finally:
        httpx.delete(f"{world.bank}/control/dailyfile/plant")
    assert daily.status_code == 200, daily.text
    imported = _ok(
        admin.post(
            f"{PAY}/recon/imports",
            content=daily.content,
            headers={"Content-Type": "text/plain"},
        ),
    )
    # paycode, hospital cash, contribution and the refund match; the QR payment is missing
    assert (imported["lines"], imported["matched"], imported["differences"]) == (4, 4, 1)
    assert (imported["debit_fen"], imported["credit_fen"]) == (3680 + 20500 + 30_000, 1280)
    found = _ok(
        admin.get(
            f"{PAY}/recon/differences",
            params={"day": f"{day:%Y-%m-%d}", "merchant": store.code, "state": "open"},
        )
    )
    mine = [(d["party"], d["ref"], d["kind"], d["ours_fen"]) for d in found["items"]]
    assert mine == [(who.bank_code, qr_order, "ours_only", 5820)]
    resolved = _ok(
        admin.post(
            f"{PAY}/recon/differences/{found['items'][0]['id']}/resolve",
            json={"action": "adjust", "reason": "核对银行流水后调账"},
        )
    )
    assert resolved["state"] == "resolved", resolved
    adjusted = _ok(ledger.get(f"{PAY}/ledger/transfers/rcn:{found['items'][0]['id']}"))
    assert (adjusted["debit_account"], adjusted["credit_account"], adjusted["amount"]) == (
        f"merchant:{store.code}",
        "suspense",
        5820,
    )
    report = _ok(admin.get(f"{PAY}/recon/days/{day:%Y-%m-%d}"))
    row = next(m for m in report["merchants"] if m["merchant_code"] == store.code)
    assert (row["differences"], row["open_differences"]) == (1, 0)
    # ... and the day cleared in a rolled-back session with the clock past the cut-off.
    cleared = _clear_today_rolled_back(engine, day)
    line = next(m for m in cleared.merchants if m.party == pharmacy.code)
    assert (line.pay_count, line.pay_fen, line.refund_fen) == (1, 3680, 1280)
    position = next(b for b in cleared.banks if b.party == who.bank_code)
    assert (position.pay_count, position.pay_fen, position.refund_fen, position.net_fen) == (
        4,
        3680 + 5820 + 20500 + 30_000,
        1280,
        3680 + 5820 + 20500 + 30_000 - 1280,
    )
    by_code = {m.party: (m.pay_fen, m.fee_fen, m.net_fen) for m in cleared.merchants}
    assert by_code[store.code] == (5820, 22, 5798)  # 0.38% of the QR payment, rounded
    assert by_code[hospital.code] == (20500, 78, 20422)  # the hospital's cash part only

    # 8. The ledger verifies clean from the command line.
    verified = sscard("ledger", "verify", env={**os.environ, **world.env})
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "总账一致" in verified.stdout
