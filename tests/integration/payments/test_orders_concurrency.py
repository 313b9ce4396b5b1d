"""Many clients paying the same order at once (PostgreSQL, real connections, the bank peer
over HTTP): the bank is debited once, the order is paid once, the ledger stays clean. And
many clients creating the same merchant order number at once get one order."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from tests.integration.payments.orders_support import CLERK, Bank, active_card, new_merchant

from sscard import db
from sscard.errors import SSCardError
from sscard.kit.context import SYSTEM
from sscard.payments.ledger import service as ledger_service
from sscard.payments.ledger import verify
from sscard.payments.orders import service

pytestmark = pytest.mark.usefixtures("pay_numbers")
CLIENTS = 8


def _together(work: Callable[[int], object]) -> tuple[list[object], list[BaseException]]:
    """Run ``work`` in CLIENTS threads released at the same moment."""
    start = threading.Barrier(CLIENTS)
    results: list[object] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        start.wait()
        try:
            outcome = work(index)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            with lock:
                failures.append(exc)
            return
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, failures


def _needs_postgres(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the concurrency tests need PostgreSQL (SSCARD_TEST_DATABASE_URL)")


def test_many_clients_paying_one_order_at_once_charge_the_card_once(
    engine: Engine, bank: Bank
) -> None:
    _needs_postgres(engine)
    card = active_card()
    bank.fund(card, 100_000)
    merchant = new_merchant()
    with db.transaction() as session:
        order = service.create_order(
            session,
            actor=CLERK,
            merchant_code=merchant,
            merchant_order_no=f"C{secrets.token_hex(5)}",
            amount_fen=3300,
            category="retail",
            channel="paycode",
        )
    results, failures = _together(
        lambda _: service.pay_by_card(
            order_no=order.order_no, card_id=card.card_id, channel="paycode", actor=CLERK
        )
    )
    assert failures == []
    statuses = sorted(getattr(r, "status", "") for r in results)
    assert set(statuses) <= {"paid", "paying"} and "paid" in statuses
    assert len(bank.payments(order.order_no)) == 1
    assert bank.balance(card) == 100_000 - 3300
    with db.transaction() as session:
        assert service.get_order(session, order_no=order.order_no, actor=CLERK).status == "paid"
        account = ledger_service.get_account(session, code=f"merchant:{merchant}", actor=SYSTEM)
        assert account.balance == 3300
        assert verify.verify_ledger(session, progress=lambda *_: None).ok


def test_many_clients_creating_one_merchant_order_number_at_once_get_one_order(
    engine: Engine,
) -> None:
    _needs_postgres(engine)
    merchant = new_merchant()
    number = f"C{secrets.token_hex(5)}"

    def create(_: int) -> str:
        with db.transaction() as session:
            return service.create_order(
                session,
                actor=CLERK,
                merchant_code=merchant,
                merchant_order_no=number,
                amount_fen=500,
                category="retail",
                channel="counter",
            ).order_no

    results, failures = _together(create)
    assert [f for f in failures if not isinstance(f, SSCardError)] == []
    assert len(results) == CLIENTS and len(set(results)) == 1
