"""Order tables: ``payments_order`` and ``payments_refund``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK

ORDER_TABLE = "payments_order"


class Order(Base):
    """A merchant's order (订单): an amount to collect once, by one channel."""

    __tablename__ = ORDER_TABLE
    __table_args__ = (
        UniqueConstraint("merchant_id", "merchant_order_no"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("paid_fen >= 0 AND paid_fen <= amount_fen", name="paid_within_amount"),
        CheckConstraint(
            "refunded_fen >= 0 AND refunded_fen <= paid_fen", name="refunded_within_paid"
        ),
        Index("ix_payments_order_merchant_created", "merchant_id", "created_at"),
        Index("ix_payments_order_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    order_no: Mapped[str] = mapped_column(String(20), unique=True)
    """``P`` + Beijing date (yyyymmdd) + 11 digits: the reference the bank and acquirer see."""
    merchant_id: Mapped[int] = mapped_column(ForeignKey("payments_merchant.id"))
    merchant_code: Mapped[str] = mapped_column(String(32))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    """The merchant's region when the order was made: scopes which operators see it."""
    merchant_order_no: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    """What the order asks for, in fen (> 0)."""
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    """What the bank debited, in fen (0 until paid)."""
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    """What was given back so far, in fen (never above ``paid_fen``)."""
    category: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(24))
    """created, paying (bank asked, answer not known), paid, failed, closed, refunded,
    partially_refunded."""
    card_id: Mapped[str | None] = mapped_column(String(26), index=True)
    bank_code: Mapped[str | None] = mapped_column(String(32))
    card_number_masked: Mapped[str | None] = mapped_column(String(16))
    expires_at: Mapped[datetime]
    paying_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    failure_code: Mapped[str | None] = mapped_column(String(40))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Refund(Base):
    """A refund (退款) of part or all of a paid order, credited back to the card."""

    __tablename__ = "payments_refund"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    refund_no: Mapped[str] = mapped_column(String(40), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey(f"{ORDER_TABLE}.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    """pending (bank asked), done, failed."""
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
