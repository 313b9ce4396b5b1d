"""The steps of a card payment, each in its own transaction, with the bank call between.

Design overview
---------------
A bank call never sits inside an open database transaction, and the platform may stop at
any moment. So a payment is three steps, and the order's status says where it stands:

1. *Intent* (one transaction): the order goes ``created`` -> ``paying`` with the card and
   its bank, and the ledger holds the money as a pending transfer ``pay:<order_no>:b``
   (``bank-clearing:<bank>`` -> ``card:<card_id>``). Committed before the bank is asked.
2. *Debit*: the bank is asked once, under the idempotency key ``<order_no>``. A timeout or
   a 5xx leaves the outcome unknown: the bank is asked for the reference's status once.
3. *Outcome* (one transaction, the order locked, only while it is still ``paying``): on
   the bank's yes the hold is posted (``pay:<order_no>:b:post``) and the card pays the
   merchant (``pay:<order_no>:m`` pending and ``pay:<order_no>:m:post`` at once: the card
   account may not be overdrawn, so the merchant leg can only be held once the bank leg is
   posted), the order is ``paid``; on the bank's no the hold is voided
   (``pay:<order_no>:b:void``) and the order is ``failed``. Unknown: nothing changes.

An order left ``paying`` (unknown outcome, or the platform stopped between the steps) is
settled by :func:`settle_paying`, which asks the bank the reference's status and runs step 3;
when the bank still cannot say after a while (the debit never arrived, or is lost), it
reverses the debit (冲正: given back if applied, barred if not) and the order fails.
Step 3 runs only on a ``paying`` order under its row lock, and the ledger references are
idempotent: a payment is posted or voided, never both, never twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sscard import db
from sscard.db import utcnow
from sscard.exchange.peers import service as exchange_peers
from sscard.issuance.activation import bank_service as issuance_bank
from sscard.issuance.cards.errors import CardNotFound
from sscard.kit.masking import mask_card_number
from sscard.payments.ledger import service as ledger_service
from sscard.payments.ledger.rules import TransferKind
from sscard.payments.ledger.schemas import AccountIn, TransferIn
from sscard.payments.orders import repository
from sscard.payments.orders.errors import CardCannotPay, OrderNotFound, OrderStatusConflict
from sscard.payments.orders.models import Order
from sscard.payments.orders.schemas import OrderOut, OrderStatus
from sscard.payments.orders.shaping import order_out, record
from sscard.settings import get_settings

UNKNOWN = exchange_peers.PaymentOutcome("unknown")
SETTLED = frozenset(
    {OrderStatus.paid, OrderStatus.paying, OrderStatus.refunded, OrderStatus.partially_refunded}
)


@dataclass(frozen=True, slots=True)
class Debit:
    """What the bank is asked: a debit of the card's account under the order number."""

    order_no: str
    bank_code: str
    card_number: str
    account: str
    amount_fen: int


def open_accounts(session: Session, *codes: str) -> None:
    """Open the ledger accounts a payment names (a concurrent first opening is a find);
    those already open cost one query together."""
    for code in ledger_service.unopened(session, codes):
        try:
            with session.begin_nested():
                ledger_service.open_account(session, data=AccountIn(code=code))
        except IntegrityError:
            ledger_service.open_account(session, data=AccountIn(code=code))


def _locked(session: Session, order_no: str) -> Order:
    order = repository.order(session, order_no, lock=True)
    if order is None:
        raise OrderNotFound(f"订单 {order_no[:20]} 不存在")
    return order


def _payable(order: Order) -> None:
    status = OrderStatus(order.status)
    if status is OrderStatus.closed:
        raise OrderStatusConflict(f"订单 {order.order_no} 已关闭，不能支付")
    if status is OrderStatus.failed:
        raise OrderStatusConflict(f"订单 {order.order_no} 支付失败，请商户重新下单")
    if order.expires_at <= utcnow():
        raise OrderStatusConflict(f"订单 {order.order_no} 已超过支付时限，不能支付")


def _card(session: Session, card_id: str) -> issuance_bank.PaymentCard:
    try:
        card = issuance_bank.payment_card(session, card_id=card_id)
    except CardNotFound:
        raise CardCannotPay("找不到该卡，不能支付") from None
    if card.refusal is not None:
        raise CardCannotPay(card.refusal)
    if not exchange_peers.bank_configured(bank_code=card.bank_code):
        raise CardCannotPay(f"该卡的服务银行 {card.bank_code} 尚未接入支付")
    return card


def begin(*, order_no: str, card_id: str, channel: str) -> Debit | OrderOut:
    """Step 1: the order ``paying`` and the money held; the debit to ask (or the order as it
    already stands, when it is paying or paid)."""
    with db.transaction() as session:
        order = _locked(session, order_no)
        if order.status in SETTLED:
            return order_out(order)
        _payable(order)
        card = _card(session, card_id)
        now = utcnow()
        order.status, order.channel = OrderStatus.paying.value, channel
        order.card_id, order.bank_code = card.card_id, card.bank_code
        order.card_number_masked = mask_card_number(card.card_number)
        order.paying_at = order.updated_at = now
        bank, holder = f"bank-clearing:{card.bank_code}", f"card:{card.card_id}"
        open_accounts(session, bank, holder, f"merchant:{order.merchant_code}")
        hold = TransferIn(
            ref=f"pay:{order_no}:b",
            debit_account=bank,
            credit_account=holder,
            amount=order.amount_fen,
            code="payment",
            reason=f"订单 {order_no}",
            kind=TransferKind.pending,
        )
        ledger_service.post_transfer(session, transfer=hold)
        record(session, "pay", order, channel=channel, card=order.card_number_masked)
        return Debit(
            order_no, card.bank_code, card.card_number, card.account or "", order.amount_fen
        )


def ask_bank(debit: Debit) -> exchange_peers.PaymentOutcome:
    """Step 2: the bank's answer to the debit; unknown when neither the debit nor one status
    query got an answer."""
    try:
        return exchange_peers.bank_debit(
            bank_code=debit.bank_code,
            card_number=debit.card_number,
            account=debit.account,
            amount_fen=debit.amount_fen,
            ref=debit.order_no,
        )
    except exchange_peers.PEER_OUTAGES:
        pass
    return ask_status(debit.bank_code, debit.order_no)


def ask_status(bank_code: str, order_no: str) -> exchange_peers.PaymentOutcome:
    """What the bank knows of the order's debit (unknown when it cannot say)."""
    try:
        return exchange_peers.bank_payment_status(bank_code=bank_code, ref=order_no)
    except exchange_peers.PEER_OUTAGES:
        return UNKNOWN


def _paid_chain(order: Order) -> list[TransferIn]:
    no, amount = order.order_no, order.amount_fen
    bank, holder = f"bank-clearing:{order.bank_code}", f"card:{order.card_id}"
    merchant = f"merchant:{order.merchant_code}"
    common = {"amount": amount, "code": "payment", "reason": f"订单 {no}"}
    return [
        TransferIn(
            ref=f"pay:{no}:b:post",
            debit_account=bank,
            credit_account=holder,
            kind=TransferKind.post_pending,
            pending_ref=f"pay:{no}:b",
            **common,
        ),
        TransferIn(
            ref=f"pay:{no}:m",
            debit_account=holder,
            credit_account=merchant,
            kind=TransferKind.pending,
            **common,
        ),
        TransferIn(
            ref=f"pay:{no}:m:post",
            debit_account=holder,
            credit_account=merchant,
            kind=TransferKind.post_pending,
            pending_ref=f"pay:{no}:m",
            **common,
        ),
    ]


def _void(order: Order) -> TransferIn:
    no = order.order_no
    return TransferIn(
        ref=f"pay:{no}:b:void",
        debit_account=f"bank-clearing:{order.bank_code}",
        credit_account=f"card:{order.card_id}",
        amount=order.amount_fen,
        code="payment",
        reason=f"订单 {no} 支付失败",
        kind=TransferKind.void_pending,
        pending_ref=f"pay:{no}:b",
    )


def apply_outcome(session: Session, order: Order, outcome: exchange_peers.PaymentOutcome) -> None:
    """Step 3 on a locked ``paying`` order: post or void, paid or failed (unknown: nothing)."""
    if order.status != OrderStatus.paying or outcome.status == "unknown":
        return
    now = utcnow()
    if outcome.status == "done":
        ledger_service.post_transfers(session, transfers=_paid_chain(order))
        order.status, order.paid_fen, order.paid_at = OrderStatus.paid.value, order.amount_fen, now
        record(session, "paid", order)
    else:
        ledger_service.post_transfer(session, transfer=_void(order))
        order.status = OrderStatus.failed.value
        order.failure_code = (outcome.reason_code or "refused")[:40]
        order.failure_reason = (outcome.reason or "银行拒绝扣款")[:200]
        record(session, "failed", order, reason=order.failure_code)
    order.updated_at = now


def finish(order_no: str, outcome: exchange_peers.PaymentOutcome) -> OrderOut:
    """Step 3 in its own transaction; the order as it stands after."""
    with db.transaction() as session:
        order = _locked(session, order_no)
        apply_outcome(session, order, outcome)
        return order_out(order)


def _reverse(bank_code: str, order_no: str) -> exchange_peers.PaymentOutcome:
    try:
        return exchange_peers.bank_reverse_debit(bank_code=bank_code, ref=order_no)
    except exchange_peers.PEER_OUTAGES:
        return UNKNOWN


def settle_paying(order_no: str) -> OrderOut:
    """Ask the bank what became of a ``paying`` order's debit and settle it (if it knows).
    A debit the bank still cannot account for after ``SSCARD_PAY_REVERSE_AFTER_SECONDS`` is
    reversed (冲正): given back if it was applied, barred if it never arrived; the order
    then fails."""
    with db.transaction() as session:
        order = _locked(session, order_no)
        if order.status != OrderStatus.paying or order.bank_code is None:
            return order_out(order)
        bank_code, since = order.bank_code, order.paying_at or order.updated_at
    outcome = ask_status(bank_code, order_no)
    grace = timedelta(seconds=get_settings().pay_reverse_after_seconds)
    if outcome.status == "unknown" and utcnow() - since > grace:
        outcome = _reverse(bank_code, order_no)
    return finish(order_no, outcome)
