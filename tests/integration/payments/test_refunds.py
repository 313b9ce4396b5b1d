"""Refunds of paid orders: partial, several, full, never more than paid, idempotent on the
refund number; the bank credits the card and the ledger posts the mirror of the payment."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import Engine
from tests.integration.payments.orders_support import (
    CLERK,
    DISTRICT,
    Bank,
    active_card,
    new_merchant,
)

from sscard import db
from sscard.errors import ValidationFailed
from sscard.kit.context import SYSTEM
from sscard.payments.ledger import service as ledger_service
from sscard.payments.ledger import verify
from sscard.payments.orders import service
from sscard.payments.orders.errors import (
    OrderNotFound,
    OrderStatusConflict,
    RefundConflict,
    RefundTooLarge,
)
from sscard.payments.orders.schemas import OrderOut

pytestmark = pytest.mark.usefixtures("pay_numbers")


def paid_order(bank: Bank, amount_fen: int = 1000, funds: int = 5000) -> tuple[OrderOut, str]:
    card = active_card()
    bank.fund(card, funds)
    merchant = new_merchant()
    with db.transaction() as session:
        order = service.create_order(
            session,
            actor=CLERK,
            merchant_code=merchant,
            merchant_order_no=f"R{secrets.token_hex(5)}",
            amount_fen=amount_fen,
            category="retail",
            channel="counter",
        )
    paid = service.pay_by_card(
        order_no=order.order_no, card_id=card.card_id, channel="card", actor=CLERK
    )
    assert paid.status == "paid"
    return paid, card.card_id


def current(order_no: str) -> OrderOut:
    with db.transaction() as session:
        return service.get_order(session, order_no=order_no, actor=CLERK)


def no() -> str:
    return f"RF{secrets.token_hex(6)}"


def test_partial_refunds_then_the_rest_leave_the_order_refunded_and_the_books_even(
    engine: Engine, bank: Bank
) -> None:
    order, card_id = paid_order(bank, 1000)
    first = service.refund(
        order_no=order.order_no, amount_fen=300, reason="退一盒", refund_no=no(), actor=CLERK
    )
    assert (first.status, first.status_name) == ("done", "已退款")
    after = current(order.order_no)
    assert (after.status, after.refunded_fen) == ("partially_refunded", 300)
    service.refund(
        order_no=order.order_no, amount_fen=200, reason="再退", refund_no=no(), actor=CLERK
    )
    with pytest.raises(RefundTooLarge) as refused:
        service.refund(
            order_no=order.order_no, amount_fen=501, reason="多退", refund_no=no(), actor=CLERK
        )
    assert refused.value.status_code == 409 and refused.value.fields[0].field == "amount_fen"
    assert "5.00" in refused.value.message
    service.refund(
        order_no=order.order_no, amount_fen=500, reason="全退", refund_no=no(), actor=CLERK
    )
    done = current(order.order_no)
    assert (done.status, done.status_name, done.refunded_fen) == ("refunded", "已全额退款", 1000)
    with pytest.raises(OrderStatusConflict):
        service.refund(
            order_no=order.order_no, amount_fen=1, reason="再退", refund_no=no(), actor=CLERK
        )
    with db.transaction() as session:
        merchant = ledger_service.get_account(
            session, code=f"merchant:{order.merchant_code}", actor=SYSTEM
        )
        assert merchant.balance == 0
        assert (
            ledger_service.get_account(session, code=f"card:{card_id}", actor=SYSTEM).balance == 0
        )
        assert len(service.refunds_of(session, order_no=order.order_no, actor=CLERK)) == 3
        assert verify.verify_ledger(session, progress=lambda *_: None).ok


def test_a_refund_number_used_again_answers_the_same_refund_and_other_content_is_refused(
    engine: Engine, bank: Bank
) -> None:
    order, _ = paid_order(bank, 1000)
    number = no()
    first = service.refund(
        order_no=order.order_no, amount_fen=400, reason="退", refund_no=number, actor=CLERK
    )
    again = service.refund(
        order_no=order.order_no, amount_fen=400, reason="退", refund_no=number, actor=CLERK
    )
    assert again == first
    assert current(order.order_no).refunded_fen == 400
    assert len(bank.payments(f"ref:{number}")) == 1
    with pytest.raises(RefundConflict) as refused:
        service.refund(
            order_no=order.order_no, amount_fen=300, reason="退", refund_no=number, actor=CLERK
        )
    assert refused.value.fields[0].field == "refund_no"


def test_a_refund_the_bank_refuses_fails_and_releases_its_amount(
    engine: Engine, bank: Bank
) -> None:
    order, _ = paid_order(bank, 1000)
    bank.fault("credit", "refuse", times=1)
    failed = service.refund(
        order_no=order.order_no, amount_fen=1000, reason="退", refund_no=no(), actor=CLERK
    )
    assert (failed.status, failed.status_name) == ("failed", "退款失败")
    assert (current(order.order_no).status, current(order.order_no).refunded_fen) == ("paid", 0)
    ok = service.refund(
        order_no=order.order_no, amount_fen=1000, reason="退", refund_no=no(), actor=CLERK
    )
    assert ok.status == "done"


def test_a_refund_with_no_answer_stays_pending_and_is_settled_later(
    engine: Engine, bank: Bank
) -> None:
    order, _ = paid_order(bank, 1000)
    bank.fault("credit", "apply_then_fail", times=1)
    bank.fault("status", "unavailable")
    pending = service.refund(
        order_no=order.order_no, amount_fen=600, reason="退", refund_no=no(), actor=CLERK
    )
    assert pending.status == "pending"
    assert current(order.order_no).refunded_fen == 600  # held: no second refund beyond it
    with pytest.raises(RefundTooLarge):
        service.refund(
            order_no=order.order_no, amount_fen=500, reason="退", refund_no=no(), actor=CLERK
        )
    bank.clear()
    settled = [r for r in service.resolve_refunds() if r.refund_no == pending.refund_no]
    assert [r.status for r in settled] == ["done"]
    assert current(order.order_no).status == "partially_refunded"


def test_refunds_refuse_unpaid_orders_bad_amounts_and_orders_out_of_the_region(
    engine: Engine, bank: Bank
) -> None:
    order, _ = paid_order(bank, 1000)
    with pytest.raises(ValidationFailed):
        service.refund(
            order_no=order.order_no, amount_fen=0, reason="退", refund_no=no(), actor=CLERK
        )
    with pytest.raises(OrderNotFound):
        service.refund(
            order_no=order.order_no, amount_fen=10, reason="退", refund_no=no(), actor=DISTRICT
        )
    with db.transaction() as session:
        unpaid = service.create_order(
            session,
            actor=CLERK,
            merchant_code=order.merchant_code,
            merchant_order_no="UNPAID1",
            amount_fen=100,
            category="retail",
            channel="counter",
        )
    with pytest.raises(OrderStatusConflict):
        service.refund(
            order_no=unpaid.order_no, amount_fen=10, reason="退", refund_no=no(), actor=CLERK
        )
