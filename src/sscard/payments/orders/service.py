"""Order use cases (订单管理): create, pay by card, settle an unknown outcome, close,
refund, find.

An order belongs to a merchant and is unique by (merchant, merchant order number): a retry
with the same number and amount answers with the same order, never a second one. The
platform's order number (``P`` + Beijing date + 11 digits) is the reference the bank and
the acquirer see. How a card payment is made safe against timeouts and crashes is the
design overview of :mod:`sscard.payments.orders.payment_steps`.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sscard import db
from sscard.db import CHINA_TZ, utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.iam import service as iam_service
from sscard.issuance.activation import bank_service as issuance_bank
from sscard.kit.context import Actor, ActorKind
from sscard.kit.masking import mask_card_number
from sscard.payments.codes.money import fen_to_yuan
from sscard.payments.merchants import service as merchants_service
from sscard.payments.merchants.models import Merchant
from sscard.payments.orders import payment_steps, refund_service, repository
from sscard.payments.orders.errors import (
    MerchantCannotTrade,
    OrderConflict,
    OrderNotFound,
    OrderStatusConflict,
)
from sscard.payments.orders.models import Order
from sscard.payments.orders.schemas import (
    Category,
    Channel,
    OrderOut,
    OrderStatus,
    RefundOut,
    StatusFilter,
)
from sscard.payments.orders.shaping import order_out, record
from sscard.settings import get_settings

refund = refund_service.refund
refunds_of = refund_service.refunds_of
resolve_refunds = refund_service.resolve_pending


def new_order_no(now: datetime | None = None) -> str:
    """``P`` + the Beijing date + 11 random digits (20 characters)."""
    day = (now or utcnow()).astimezone(CHINA_TZ).strftime("%Y%m%d")
    return f"P{day}{secrets.randbelow(10**11):011d}"


def _checked(amount_fen: int, category: str, channel: str) -> tuple[Category, Channel]:
    found: list[FieldProblem] = []
    limit = get_settings().pay_max_fen
    if amount_fen <= 0:
        found.append(FieldProblem("amount_fen", "金额必须大于 0（单位：分）"))
    elif amount_fen > limit:
        found.append(FieldProblem("amount_fen", f"金额超过单笔上限 {fen_to_yuan(limit)} 元"))
    if category not in Category.__members__:
        found.append(FieldProblem("category", f"商品类别 {category[:20]} 不在可选范围内"))
    if channel not in Channel.__members__:
        found.append(FieldProblem("channel", f"支付渠道 {channel[:20]} 不在可选范围内"))
    if found:
        raise ValidationFailed(found)
    return Category(category), Channel(channel)


def _merchant(session: Session, code: str, actor: Actor) -> Merchant:
    merchant = merchants_service.merchant_by_code(session, code=code)
    hidden = actor.kind is ActorKind.operator and (
        merchant is None or not merchants_service.in_region(merchant, actor)
    )
    if merchant is None or hidden:
        raise ValidationFailed([FieldProblem("merchant_code", f"商户编号 {code[:32]} 不存在")])
    if merchant.status != "active":
        raise MerchantCannotTrade(f"商户 {merchant.code} 当前不是正常状态，不能收款")
    return merchant


def _same_order(found: Order, amount_fen: int) -> OrderOut:
    if found.amount_fen != amount_fen:
        raise OrderConflict(
            f"商户订单号 {found.merchant_order_no} 已用于金额 {fen_to_yuan(found.amount_fen)} 元"
            "的订单，不能换成其他金额",
            field="merchant_order_no",
        )
    return order_out(found)


def create_order(
    session: Session,
    *,
    actor: Actor,
    merchant_code: str,
    merchant_order_no: str,
    amount_fen: int,
    category: str,
    channel: str,
    subject: str | None = None,
    timeout_s: int | None = None,
) -> OrderOut:
    """Create a merchant's order, or answer with the one it already made under this number."""
    kind, way = _checked(amount_fen, category, channel)
    merchant = _merchant(session, merchant_code, actor)
    found = repository.order_of_merchant(session, merchant.id, merchant_order_no)
    if found is not None:
        return _same_order(found, amount_fen)
    now = utcnow()
    timeout = timeout_s or get_settings().pay_order_timeout_seconds
    order = Order(
        order_no=new_order_no(now),
        merchant_id=merchant.id,
        merchant_code=merchant.code,
        region_code=merchant.region_code,
        merchant_order_no=merchant_order_no,
        amount_fen=amount_fen,
        paid_fen=0,
        refunded_fen=0,
        category=kind.value,
        channel=way.value,
        subject=subject,
        status=OrderStatus.created.value,
        expires_at=now + timedelta(seconds=timeout),
        created_by=actor.label[:80],
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            repository.add(session, order)
    except IntegrityError:
        again = repository.order_of_merchant(session, merchant.id, merchant_order_no)
        if again is None:
            raise
        return _same_order(again, amount_fen)
    record(session, "create", order)
    return order_out(order)


def _visible(order: Order | None, actor: Actor) -> bool:
    return order is not None and order.region_code.startswith(iam_service.region_scope(actor))


def get_order(session: Session, *, order_no: str, actor: Actor) -> OrderOut:
    """One order of the actor's region, or OrderNotFound."""
    order = repository.order(session, order_no)
    if order is None or not _visible(order, actor):
        raise OrderNotFound(f"订单 {order_no[:20]} 不存在")
    return order_out(order)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CHINA_TZ)


def find_orders(
    session: Session,
    *,
    actor: Actor,
    merchant_code: str | None = None,
    status: StatusFilter = StatusFilter.all,
    channel: str | None = None,
    order_no: str | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
    page: int = 1,
    page_size: int | None = 20,
) -> tuple[list[OrderOut], int]:
    """Orders of the actor's region, newest first; dates are Beijing days, both included."""
    if start_date and end_date and end_date < start_date:
        raise ValidationFailed([FieldProblem("end_date", "结束日期不能早于开始日期")])
    rows, total = repository.orders(
        session,
        region_prefix=iam_service.region_scope(actor),
        merchant_code=merchant_code.strip().upper() if merchant_code else None,
        status=None if status is StatusFilter.all else status.value,
        channel=channel,
        order_no=order_no.strip() if order_no else None,
        start=_day_start(start_date) if start_date else None,
        end=_day_start(end_date + timedelta(days=1)) if end_date else None,
        offset=(page - 1) * (page_size or 0),
        limit=page_size,
    )
    return [order_out(o) for o in rows], total


def pay_by_card(*, order_no: str, card_id: str, channel: str, actor: Actor) -> OrderOut:
    """Pay the order from the card's bank account; the order paid, failed, or paying (the
    bank's answer not known yet: :func:`resolve_paying` settles it)."""
    if channel not in Channel.__members__:
        raise ValidationFailed([FieldProblem("channel", f"支付渠道 {channel[:20]} 不在可选范围内")])
    debit = payment_steps.begin(order_no=order_no, card_id=card_id, channel=channel)
    if isinstance(debit, OrderOut):
        return debit
    return payment_steps.finish(order_no, payment_steps.ask_bank(debit))


def pay_at_counter(*, order_no: str, card_number: str, actor: Actor) -> OrderOut:
    """Pay an order of the actor's region with a physical card, by its card number."""
    with db.transaction() as session:
        get_order(session, order_no=order_no, actor=actor)
        card_id = issuance_bank.card_id_of_number(session, card_number=card_number)
    if card_id is None:
        raise ValidationFailed(
            [FieldProblem("card_number", f"卡号 {mask_card_number(card_number)} 不存在")]
        )
    return pay_by_card(order_no=order_no, card_id=card_id, channel=Channel.card.value, actor=actor)


def resolve_paying(
    *, actor: Actor, order_no: str | None = None, limit: int = 200
) -> list[OrderOut]:
    """Ask the bank about ``paying`` orders (one, or the oldest ``limit``) and settle those
    it answers for: posted or voided, never both. Runs its own transactions."""
    if order_no is not None:
        with db.transaction() as session:
            get_order(session, order_no=order_no, actor=actor)  # 404 outside the scope
        return [payment_steps.settle_paying(order_no)]
    with db.transaction() as session:
        numbers = repository.order_nos_in_status(
            session, OrderStatus.paying.value, before=None, limit=limit
        )
    return [payment_steps.settle_paying(no) for no in numbers]


def close_order(session: Session, *, order_no: str, actor: Actor) -> OrderOut:
    """Close an unpaid order (关闭): it can no longer be paid."""
    order = repository.order(session, order_no, lock=True)
    if order is None or not _visible(order, actor):
        raise OrderNotFound(f"订单 {order_no[:20]} 不存在")
    if order.status == OrderStatus.closed:
        return order_out(order)
    if order.status != OrderStatus.created:
        raise OrderStatusConflict(
            f"订单 {order.order_no} 当前为“{order_out(order).status_name}”，不能关闭"
        )
    _close(session, order, "close")
    return order_out(order)


def _close(session: Session, order: Order, action: str) -> None:
    order.status = OrderStatus.closed.value
    order.closed_at = order.updated_at = utcnow()
    record(session, action, order)


def close_expired(session: Session, *, limit: int = 500) -> int:
    """Close unpaid orders past their time limit (a worker chore); how many were closed."""
    numbers = repository.order_nos_in_status(
        session, OrderStatus.created.value, before=utcnow(), limit=limit
    )
    for no in numbers:
        order = repository.order(session, no, lock=True)
        if order is not None and order.status == OrderStatus.created:
            _close(session, order, "expire")
    return len(numbers)


__all__ = [
    "RefundOut",
    "close_expired",
    "close_order",
    "create_order",
    "find_orders",
    "get_order",
    "new_order_no",
    "pay_at_counter",
    "pay_by_card",
    "refund",
    "refunds_of",
    "resolve_paying",
]
