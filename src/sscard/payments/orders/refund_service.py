"""Refunds (退款): full, partial, several, never more than paid; idempotent on the refund
number.

A refund is two steps around the bank call, like a payment: the refund is recorded
``pending`` and its amount counted in the order's ``refunded_fen`` (so two refunds at once
cannot give back more than was paid) and committed; the bank credits the card (key
``ref:<refund_no>``); on its yes the ledger posts the mirror of the payment, linked
(``ref:<refund_no>:m`` merchant -> card, ``ref:<refund_no>:b`` card -> bank clearing) and
the order becomes ``partially_refunded`` or ``refunded``; on its no the refund is
``failed`` and its amount is released. An unknown answer leaves it ``pending`` for
:func:`resolve_pending`.

An order paid on the bank's pay page (网银, no card) is refunded by the platform's signed
refund request to that bank (``POST /paypage/refund``), which credits back the paying
account; its ledger leg is one transfer ``ref:<refund_no>:w`` merchant -> bank clearing.
"""

from __future__ import annotations

from datetime import UTC

from sqlalchemy.orm import Session

from sscard import db
from sscard.crypto import service as crypto_service
from sscard.db import utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.exchange.peers import service as exchange_peers
from sscard.iam import service as iam_service
from sscard.issuance.activation import bank_service as issuance_bank
from sscard.kit.context import Actor
from sscard.payments.codes import online_signing
from sscard.payments.codes.money import fen_to_yuan
from sscard.payments.ledger import service as ledger_service
from sscard.payments.ledger.schemas import TransferIn
from sscard.payments.orders import repository
from sscard.payments.orders.errors import (
    OrderNotFound,
    OrderStatusConflict,
    RefundConflict,
    RefundNotFound,
    RefundTooLarge,
)
from sscard.payments.orders.models import Order, Refund
from sscard.payments.orders.schemas import OrderStatus, RefundOut, RefundStatus
from sscard.payments.orders.shaping import record, refund_out
from sscard.settings import get_settings

REFUNDABLE = frozenset({OrderStatus.paid, OrderStatus.partially_refunded})


def _order(session: Session, order_no: str, actor: Actor, *, lock: bool) -> Order:
    order = repository.order(session, order_no, lock=lock)
    if order is None or not order.region_code.startswith(iam_service.region_scope(actor)):
        raise OrderNotFound(f"订单 {order_no[:20]} 不存在")
    return order


def _known(refund: Refund, order: Order | None, order_no: str, amount_fen: int) -> RefundOut:
    if order is None or order.order_no != order_no or refund.amount_fen != amount_fen:
        raise RefundConflict(f"退款单号 {refund.refund_no} 已用于其他订单或其他金额")
    return refund_out(refund, order_no)


def _check(order: Order, amount_fen: int) -> None:
    if amount_fen <= 0:
        raise ValidationFailed([FieldProblem("amount_fen", "退款金额必须大于 0（单位：分）")])
    if order.status not in REFUNDABLE:
        name = {"refunded": "已全额退款"}.get(order.status, "未支付成功")
        raise OrderStatusConflict(f"订单 {order.order_no} {name}，不能退款")
    left = order.paid_fen - order.refunded_fen
    if amount_fen > left:
        raise RefundTooLarge(f"退款金额超过可退金额 {fen_to_yuan(left)} 元")


def _request(
    *, order_no: str, amount_fen: int, reason: str, refund_no: str, actor: Actor
) -> tuple[RefundOut, dict[str, object] | None]:
    """Step 1: the refund recorded ``pending`` and its amount reserved; the credit to ask."""
    with db.transaction() as session:
        order = _order(session, order_no, actor, lock=True)
        known = repository.refund(session, refund_no)  # read under the order's lock
        if known is not None:
            owner = repository.order_by_id(session, known.order_id)
            return _known(known, owner, order_no, amount_fen), None
        _check(order, amount_fen)
        now = utcnow()
        row = Refund(
            refund_no=refund_no,
            order_id=order.id,
            amount_fen=amount_fen,
            reason=reason,
            status=RefundStatus.pending.value,
            created_by=actor.label[:80],
            created_at=now,
        )
        repository.add(session, row)
        order.refunded_fen += amount_fen
        order.updated_at = now
        record(session, "refund", order, refund_no=refund_no, refund_fen=amount_fen)
        credit = _credit(session, order, row)
        return refund_out(row, order_no), credit


def _ask_paypage(credit: dict[str, object]) -> exchange_peers.PaymentOutcome:
    bank_code, refund_no = str(credit["bank_code"]), str(credit["refund_no"])
    try:
        return exchange_peers.bank_paypage_refund(
            bank_code=bank_code, refund_no=refund_no, req=str(credit["req"]), sig=str(credit["sig"])
        )
    except exchange_peers.PEER_OUTAGES:
        pass
    try:
        return exchange_peers.bank_paypage_refund_status(
            bank_code=bank_code, order_no=str(credit["order_no"]), refund_no=refund_no
        )
    except exchange_peers.PEER_OUTAGES:
        return exchange_peers.PaymentOutcome("unknown")


def _ask(credit: dict[str, object]) -> exchange_peers.PaymentOutcome:
    if "req" in credit:
        return _ask_paypage(credit)
    try:
        return exchange_peers.bank_credit(**credit)  # type: ignore[arg-type]
    except exchange_peers.PEER_OUTAGES:
        pass
    try:
        return exchange_peers.bank_payment_status(
            bank_code=str(credit["bank_code"]), ref=str(credit["ref"])
        )
    except exchange_peers.PEER_OUTAGES:
        return exchange_peers.PaymentOutcome("unknown")


def _mirror(order: Order, row: Refund) -> list[TransferIn]:
    no, amount = row.refund_no, row.amount_fen
    if order.card_id is None:  # paid on the bank's pay page: the mirror of pay:<no>:w
        return [
            TransferIn(
                ref=f"ref:{no}:w",
                debit_account=f"merchant:{order.merchant_code}",
                credit_account=f"bank-clearing:{order.bank_code}",
                amount=amount,
                code="refund",
                reason=f"订单 {order.order_no} 网银支付退款",
            )
        ]
    holder, reason = f"card:{order.card_id}", f"订单 {order.order_no} 退款"
    return [
        TransferIn(
            ref=f"ref:{no}:m",
            debit_account=f"merchant:{order.merchant_code}",
            credit_account=holder,
            amount=amount,
            code="refund",
            reason=reason,
        ),
        TransferIn(
            ref=f"ref:{no}:b",
            debit_account=holder,
            credit_account=f"bank-clearing:{order.bank_code}",
            amount=amount,
            code="refund",
            reason=reason,
        ),
    ]


def _apply(session: Session, row: Refund, outcome: exchange_peers.PaymentOutcome) -> None:
    """Step 3 on a pending refund (its order locked): done or failed; unknown: nothing."""
    if row.status != RefundStatus.pending or outcome.status == "unknown":
        return
    order = repository.order(session, _order_no(session, row), lock=True)
    assert order is not None  # noqa: S101 - a refund always has its order
    now = utcnow()
    if outcome.status == "done":
        ledger_service.post_transfers(session, transfers=_mirror(order, row))
        row.status, row.done_at = RefundStatus.done.value, now
        pending = [r for r in repository.refunds_of(session, order.id) if r.status == "pending"]
        whole = order.refunded_fen == order.paid_fen and not pending
        order.status = (OrderStatus.refunded if whole else OrderStatus.partially_refunded).value
        record(session, "refunded", order, refund_no=row.refund_no, refund_fen=row.amount_fen)
    else:
        row.status = RefundStatus.failed.value
        row.failure_reason = (outcome.reason or "银行拒绝退款")[:200]
        order.refunded_fen -= row.amount_fen
        record(session, "refund_failed", order, refund_no=row.refund_no)
    order.updated_at = now


def _order_no(session: Session, row: Refund) -> str:
    order = repository.order_by_id(session, row.order_id)
    return order.order_no if order is not None else ""


def _finish(refund_no: str, outcome: exchange_peers.PaymentOutcome) -> RefundOut:
    with db.transaction() as session:
        row = repository.refund(session, refund_no)
        if row is None:
            raise RefundNotFound(f"退款单 {refund_no} 不存在")
        _apply(session, row, outcome)
        return refund_out(row, _order_no(session, row))


def refund(
    *, order_no: str, amount_fen: int, reason: str, refund_no: str, actor: Actor
) -> RefundOut:
    """Give back part or all of a paid order to the card (idempotent on ``refund_no``)."""
    out, credit = _request(
        order_no=order_no, amount_fen=amount_fen, reason=reason, refund_no=refund_no, actor=actor
    )
    if credit is None:
        return out
    return _finish(refund_no, _ask(credit))


def refunds_of(session: Session, *, order_no: str, actor: Actor) -> list[RefundOut]:
    """The order's refunds, oldest first."""
    order = _order(session, order_no, actor, lock=False)
    return [refund_out(r, order_no) for r in repository.refunds_of(session, order.id)]


def _credit(session: Session, order: Order, row: Refund) -> dict[str, object]:
    """The bank credit a refund asks for (its reference is its idempotency key); for an
    order paid on the bank's pay page, the platform's signed refund request (退款请求)."""
    if order.card_id is None:
        return _paypage_request(session, order, row)
    card = issuance_bank.payment_card(session, card_id=order.card_id or "")
    return {
        "bank_code": order.bank_code or card.bank_code,
        "card_number": card.card_number,
        "account": card.account or "",
        "amount_fen": row.amount_fen,
        "ref": f"ref:{row.refund_no}",
    }


def _paypage_request(session: Session, order: Order, row: Refund) -> dict[str, object]:
    message = {
        "order_no": order.order_no,
        "refund_no": row.refund_no,
        "bank_code": order.bank_code or "",
        "amount_fen": row.amount_fen,
        "issued_at": row.created_at.replace(tzinfo=UTC).isoformat(timespec="seconds"),
        "signer": online_signing.signer_party(get_settings().region_code),
    }
    return {
        "bank_code": order.bank_code or "",
        "order_no": order.order_no,
        "refund_no": row.refund_no,
        "req": online_signing.encode_request(message),
        "sig": crypto_service.sign(
            session, name=online_signing.PLATFORM_KEY, message=online_signing.canonical(message)
        ).signature.hex(),
    }


def resolve_pending(*, limit: int = 200) -> list[RefundOut]:
    """Send the credit of each pending refund again (the bank answers a credit it applied
    with its first answer, and applies one it never got) and settle what it answers."""
    credits: dict[str, dict[str, object]] = {}
    with db.transaction() as session:
        for no in repository.pending_refund_nos(session, limit=limit):
            row = repository.refund(session, no)
            order = repository.order_by_id(session, row.order_id) if row else None
            if row is not None and order is not None:
                credits[no] = _credit(session, order, row)
    return [_finish(no, _ask(credit)) for no, credit in credits.items()]
