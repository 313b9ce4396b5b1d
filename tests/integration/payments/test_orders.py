"""Orders: created once per merchant order number, paid by card through the bank peer
(served in-process over real HTTP), refused with a reason, closed, with the ledger posted
or voided to match. Work is committed: a payment runs its own transactions."""

from __future__ import annotations

import secrets
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Engine, update
from tests.integration.payments.orders_support import (
    CLERK,
    DISTRICT,
    Bank,
    active_card,
    new_merchant,
)

from sscard import db
from sscard.db import utcnow
from sscard.errors import ValidationFailed
from sscard.kit.context import SYSTEM
from sscard.payments.ledger import service as ledger_service
from sscard.payments.ledger import verify
from sscard.payments.ledger.errors import TransferNotFound
from sscard.payments.orders import service
from sscard.payments.orders.errors import (
    CardCannotPay,
    MerchantCannotTrade,
    OrderConflict,
    OrderNotFound,
    OrderStatusConflict,
)
from sscard.payments.orders.models import Order
from sscard.payments.orders.schemas import OrderOut, StatusFilter

pytestmark = pytest.mark.usefixtures("pay_numbers")


def create(merchant: str, amount_fen: int = 1230, **extra: object) -> OrderOut:
    values: dict[str, object] = {
        "merchant_code": merchant,
        "merchant_order_no": f"B{secrets.token_hex(6)}",
        "amount_fen": amount_fen,
        "category": "medicine",
        "channel": "counter",
    }
    values.update(extra)
    with db.transaction() as session:
        return service.create_order(session, actor=CLERK, **values)  # type: ignore[arg-type]


def ledger_refs(order_no: str) -> set[str]:
    found = set()
    with db.transaction() as session:
        for suffix in ("b", "b:post", "b:void", "m", "m:post", "m:void"):
            try:
                ledger_service.get_transfer(session, ref=f"pay:{order_no}:{suffix}", actor=SYSTEM)
            except TransferNotFound:
                continue
            found.add(suffix)
    return found


def balance(code: str) -> int:
    with db.transaction() as session:
        return ledger_service.get_account(session, code=code, actor=SYSTEM).balance


def test_an_order_is_created_once_per_merchant_order_number_and_another_amount_is_refused(
    engine: Engine,
) -> None:
    merchant = new_merchant()
    first = create(merchant, merchant_order_no="INV-0001")
    again = create(merchant, merchant_order_no="INV-0001")
    assert again.order_no == first.order_no
    assert first.order_no.startswith("P") and len(first.order_no) == 20
    assert (first.status, first.status_name, first.category_name) == ("created", "待支付", "购药")
    assert timedelta(minutes=14) < first.expires_at - first.created_at <= timedelta(minutes=15)
    with pytest.raises(OrderConflict) as refused:
        create(merchant, merchant_order_no="INV-0001", amount_fen=999)
    assert refused.value.status_code == 409
    assert refused.value.fields[0].field == "merchant_order_no"
    other = create(new_merchant(), merchant_order_no="INV-0001")
    assert other.order_no != first.order_no


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount_fen": 0}, "amount_fen"),
        ({"amount_fen": -5}, "amount_fen"),
        ({"amount_fen": 5_000_001}, "amount_fen"),
        ({"merchant_code": "NOSUCHMERCHANT"}, "merchant_code"),
        ({"category": "weapons"}, "category"),
        ({"channel": "cash"}, "channel"),
    ],
)
def test_a_bad_order_is_refused_naming_the_field(
    engine: Engine, changes: dict[str, object], field: str
) -> None:
    merchant = new_merchant()
    with pytest.raises(ValidationFailed) as refused:
        create(merchant, **changes)
    assert refused.value.status_code == 422
    assert [p.field for p in refused.value.fields] == [field]


def test_a_merchant_of_another_district_is_unknown_and_a_suspended_one_takes_no_order(
    engine: Engine,
) -> None:
    merchant = new_merchant("370811")
    with pytest.raises(ValidationFailed), db.transaction() as session:
        service.create_order(
            session,
            actor=DISTRICT,
            merchant_code=merchant,
            merchant_order_no="X1",
            amount_fen=100,
            category="retail",
            channel="counter",
        )
    from sscard.payments.merchants import service as merchants_service

    with db.transaction() as session:
        found = merchants_service.get_merchant_by_code(session, code=merchant, actor=CLERK)
        merchants_service.suspend_merchant(session, merchant_id=found.id, actor=CLERK)
    with pytest.raises(MerchantCannotTrade) as refused:
        create(merchant)
    assert refused.value.status_code == 409


def test_a_card_payment_debits_the_bank_once_and_posts_both_legs(
    engine: Engine, bank: Bank
) -> None:
    card = active_card()
    bank.fund(card, 10_000)
    merchant = new_merchant()
    order = create(merchant, 1230)
    paid = service.pay_by_card(
        order_no=order.order_no, card_id=card.card_id, channel="card", actor=CLERK
    )
    assert (paid.status, paid.paid_fen, paid.channel) == ("paid", 1230, "card")
    assert paid.card_number is not None and "*" in paid.card_number
    again = service.pay_by_card(
        order_no=order.order_no, card_id=card.card_id, channel="card", actor=CLERK
    )
    assert again.status == "paid"
    assert bank.balance(card) == 10_000 - 1230
    assert [p["status"] for p in bank.payments(order.order_no)] == ["done"]
    assert ledger_refs(order.order_no) == {"b", "b:post", "m", "m:post"}
    assert balance(f"merchant:{merchant}") == 1230
    assert balance(f"card:{card.card_id}") == 0
    with db.transaction() as session:
        assert verify.verify_ledger(session, progress=lambda *_: None).ok


def test_a_bank_refusal_fails_the_order_with_its_reason_and_voids_the_hold(
    engine: Engine, bank: Bank
) -> None:
    card = active_card()
    bank.fund(card, 500)
    order = create(new_merchant(), 1230)
    failed = service.pay_by_card(
        order_no=order.order_no, card_id=card.card_id, channel="card", actor=CLERK
    )
    assert (failed.status, failed.status_name) == ("failed", "支付失败")
    assert failed.failure_code == "insufficient_balance"
    assert failed.failure_reason and "余额不足" in failed.failure_reason
    assert ledger_refs(order.order_no) == {"b", "b:void"}
    assert bank.balance(card) == 500
    with pytest.raises(OrderStatusConflict):
        service.pay_by_card(
            order_no=order.order_no, card_id=card.card_id, channel="card", actor=CLERK
        )


@pytest.mark.parametrize(
    ("action", "words"),
    [("temporary_loss", "挂失"), ("cancel", "注销"), ("account", "银行账户未启用")],
)
def test_a_lost_cancelled_or_unactivated_card_cannot_pay_and_the_order_stays_open(
    engine: Engine, bank: Bank, action: str, words: str
) -> None:
    from sscard.issuance.cards import service as cards_service

    card = active_card(account_active=action != "account")
    with db.transaction() as session:
        if action == "temporary_loss":
            cards_service.report_loss(session, card_ref=card.card_id, temporary=True, actor=CLERK)
        elif action == "cancel":
            cards_service.cancel(session, card_ref=card.card_id, reason="测试注销", actor=CLERK)
    order = create(new_merchant())
    with pytest.raises(CardCannotPay) as refused:
        service.pay_by_card(
            order_no=order.order_no, card_id=card.card_id, channel="card", actor=CLERK
        )
    assert words in refused.value.message
    with db.transaction() as session:
        assert service.get_order(session, order_no=order.order_no, actor=CLERK).status == "created"


def test_a_timeout_then_a_status_query_that_finds_the_debit_pays_the_order(
    engine: Engine, bank: Bank
) -> None:
    card = active_card()
    bank.fund(card, 5000)
    bank.fault("debit", "apply_then_fail", times=1)
    order = create(new_merchant(), 800)
    paid = service.pay_by_card(
        order_no=order.order_no, card_id=card.card_id, channel="card", actor=CLERK
    )
    assert paid.status == "paid"
    assert bank.balance(card) == 4200


def test_an_unknown_outcome_stays_paying_until_resolve_asks_the_bank(
    engine: Engine, bank: Bank
) -> None:
    card = active_card()
    bank.fund(card, 5000)
    bank.fault("debit", "apply_then_fail", times=1)
    bank.fault("status", "unavailable")
    order = create(new_merchant(), 700)
    paying = service.pay_by_card(
        order_no=order.order_no, card_id=card.card_id, channel="card", actor=CLERK
    )
    assert (paying.status, paying.status_name) == ("paying", "支付中")
    assert ledger_refs(order.order_no) == {"b"}
    [still] = service.resolve_paying(actor=SYSTEM, order_no=order.order_no)
    assert still.status == "paying"
    bank.clear()
    [resolved] = service.resolve_paying(actor=SYSTEM, order_no=order.order_no)
    assert resolved.status == "paid"
    [again] = service.resolve_paying(actor=SYSTEM, order_no=order.order_no)
    assert again.status == "paid"
    assert ledger_refs(order.order_no) == {"b", "b:post", "m", "m:post"}
    assert bank.balance(card) == 4300
    assert len(bank.payments(order.order_no)) == 1


def test_a_debit_the_bank_never_received_leaves_the_order_paying_and_the_account_untouched(
    engine: Engine, bank: Bank
) -> None:
    card = active_card()
    bank.fund(card, 5000)
    bank.fault("debit", "unavailable", times=1)
    order = create(new_merchant(), 700)
    paying = service.pay_by_card(
        order_no=order.order_no, card_id=card.card_id, channel="card", actor=CLERK
    )
    # The bank never saw the debit: its status is unknown, so the order waits.
    assert paying.status == "paying"
    assert bank.balance(card) == 5000


def test_closing_an_unpaid_order_and_the_worker_closing_expired_ones(engine: Engine) -> None:
    merchant = new_merchant()
    order = create(merchant)
    with db.transaction() as session:
        closed = service.close_order(session, order_no=order.order_no, actor=CLERK)
    assert (closed.status, closed.status_name) == ("closed", "已关闭")
    late = create(merchant)
    with db.transaction() as session:
        session.execute(
            update(Order)
            .where(Order.order_no == late.order_no)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    with db.transaction() as session:
        assert service.close_expired(session) >= 1
        assert service.get_order(session, order_no=late.order_no, actor=CLERK).status == "closed"
    with pytest.raises(OrderStatusConflict):
        service.pay_by_card(order_no=late.order_no, card_id="X", channel="card", actor=CLERK)


def test_orders_are_found_by_merchant_status_and_day_within_the_region(engine: Engine) -> None:
    merchant = new_merchant("370811")
    made = [create(merchant).order_no for _ in range(3)]
    with db.transaction() as session:
        found, total = service.find_orders(session, actor=CLERK, merchant_code=merchant)
        assert total == 3 and {o.order_no for o in found} == set(made)
        today = utcnow().date()
        _, on_day = service.find_orders(
            session,
            actor=CLERK,
            merchant_code=merchant,
            start_date=today - timedelta(days=1),
            end_date=today + timedelta(days=1),
            status=StatusFilter.created,
        )
        assert on_day == 3
        _, paid = service.find_orders(
            session, actor=CLERK, merchant_code=merchant, status=StatusFilter.paid
        )
        assert paid == 0
        _, elsewhere = service.find_orders(session, actor=DISTRICT, merchant_code=merchant)
        assert elsewhere == 0
        with pytest.raises(OrderNotFound):
            service.get_order(session, order_no=made[0], actor=DISTRICT)


def test_a_debit_the_bank_cannot_account_for_is_reversed_after_a_while_and_a_late_one_refused(
    engine: Engine, bank: Bank
) -> None:
    card = active_card()
    bank.fund(card, 5000)
    bank.fault("debit", "unavailable", times=1)
    order = create(new_merchant(), 700)
    paying = service.pay_by_card(
        order_no=order.order_no, card_id=card.card_id, channel="card", actor=CLERK
    )
    assert paying.status == "paying"
    [young] = service.resolve_paying(actor=SYSTEM, order_no=order.order_no)
    assert young.status == "paying"  # too early to give up on the debit
    with db.transaction() as session:
        session.execute(
            update(Order)
            .where(Order.order_no == order.order_no)
            .values(paying_at=utcnow() - timedelta(minutes=10))
        )
    [failed] = service.resolve_paying(actor=SYSTEM, order_no=order.order_no)
    assert (failed.status, failed.failure_code) == ("failed", "reversed")
    assert ledger_refs(order.order_no) == {"b", "b:void"}
    late = httpx.post(
        f"{bank.url}/payments/debit",
        json={
            "bank_code": card.bank_code,
            "card_number": card.card_number,
            "account": card.account,
            "amount_fen": 700,
            "ref": order.order_no,
        },
    )
    assert late.status_code == 422 and late.json()["error"] == "reversed"
    assert bank.balance(card) == 5000


def test_a_debit_applied_but_never_answered_is_given_back_when_reversed(
    engine: Engine, bank: Bank
) -> None:
    card = active_card()
    bank.fund(card, 5000)
    bank.fault("debit", "apply_then_fail", times=1)
    bank.fault("status", "unavailable")
    order = create(new_merchant(), 900)
    paying = service.pay_by_card(
        order_no=order.order_no, card_id=card.card_id, channel="card", actor=CLERK
    )
    assert paying.status == "paying" and bank.balance(card) == 4100
    with db.transaction() as session:
        session.execute(
            update(Order)
            .where(Order.order_no == order.order_no)
            .values(paying_at=utcnow() - timedelta(minutes=10))
        )
    [failed] = service.resolve_paying(actor=SYSTEM, order_no=order.order_no)
    assert failed.status == "failed" and bank.balance(card) == 5000
    with db.transaction() as session:
        assert verify.verify_ledger(session, progress=lambda *_: None).ok
