"""Orders and refunds as callers see them, and the audit record of their changes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from sscard.kit import access
from sscard.payments.orders.models import Order, Refund
from sscard.payments.orders.schemas import (
    CATEGORY_NAMES,
    CHANNEL_NAMES,
    REFUND_STATUS_NAMES,
    STATUS_NAMES,
    Category,
    Channel,
    OrderOut,
    OrderStatus,
    RefundOut,
    RefundStatus,
)


def order_out(order: Order) -> OrderOut:
    """The order with its Chinese names; the card number masked."""
    status, category, channel = (
        OrderStatus(order.status),
        Category(order.category),
        Channel(order.channel),
    )
    return OrderOut(
        order_no=order.order_no,
        merchant_code=order.merchant_code,
        merchant_order_no=order.merchant_order_no,
        amount_fen=order.amount_fen,
        paid_fen=order.paid_fen,
        refunded_fen=order.refunded_fen,
        category=category,
        category_name=CATEGORY_NAMES[category],
        channel=channel,
        channel_name=CHANNEL_NAMES[channel],
        subject=order.subject,
        status=status,
        status_name=STATUS_NAMES[status],
        card_id=order.card_id,
        card_number=order.card_number_masked,
        bank_code=order.bank_code,
        expires_at=order.expires_at,
        paid_at=order.paid_at,
        closed_at=order.closed_at,
        failure_code=order.failure_code,
        failure_reason=order.failure_reason,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )


def refund_out(refund: Refund, order_no: str) -> RefundOut:
    status = RefundStatus(refund.status)
    return RefundOut(
        refund_no=refund.refund_no,
        order_no=order_no,
        amount_fen=refund.amount_fen,
        reason=refund.reason,
        status=status,
        status_name=REFUND_STATUS_NAMES[status],
        failure_reason=refund.failure_reason,
        created_at=refund.created_at,
        done_at=refund.done_at,
    )


def record(session: Session, action: str, order: Order, **detail: Any) -> None:
    """Write a change of an order to the audit log (``payments.order.<action>``)."""
    access.record(
        session,
        access.AccessRecord(
            action=f"payments.order.{action}",
            subject_type="payment_order",
            subject_id=order.order_no,
            subject_display=order.order_no,
            detail={"merchant": order.merchant_code, "amount_fen": order.amount_fen, **detail},
        ),
    )
