"""Payment code records (payments_paycode) and the card charges they and merchant QR
payments make (payments_card_charge)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK

PAYCODE_TABLE = "payments_paycode"


class PaymentCode(Base):
    """The server side of one payment code (付款码): whose card pays, until when, and
    whether a merchant has claimed it. Claimed at most once; a newer code supersedes it."""

    __tablename__ = PAYCODE_TABLE

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    slot: Mapped[int] = mapped_column(Integer)
    """The reference the code carries: ``id % 10**6``."""
    tick: Mapped[int] = mapped_column(BigInteger)
    """The 10-second tick the code was issued in (seconds since the epoch // 10)."""
    product: Mapped[str] = mapped_column(String(2))
    person_id: Mapped[str] = mapped_column(String(26), index=True)
    ecard_id: Mapped[str] = mapped_column(String(26))
    card_id: Mapped[str] = mapped_column(String(26))
    status: Mapped[str] = mapped_column(String(16))
    """live (may be scanned), claimed (a merchant used it), superseded (a newer one shown)."""
    no_pin_limit_fen: Mapped[int] = mapped_column(BigInteger)
    """Payments up to this amount need no PIN (the setting when the code was issued)."""
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_payments_paycode_slot_tick", "slot", "tick"),)


class CardCharge(Base):
    """One payment a resident made from the card by payment code or merchant QR: what the
    per-day limit counts, and the link from a merchant's order number to the card order."""

    __tablename__ = "payments_card_charge"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    card_id: Mapped[str] = mapped_column(String(26))
    person_id: Mapped[str] = mapped_column(String(26))
    channel: Mapped[str] = mapped_column(String(16))
    """paycode (被扫) or merchant_qr (主扫)."""
    merchant_code: Mapped[str] = mapped_column(String(32))
    merchant_order_no: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    """Integer fen (分)."""
    paycode_id: Mapped[int | None] = mapped_column(ForeignKey(f"{PAYCODE_TABLE}.id"))
    order_no: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16))
    """ordered (sent to the bank), paid, failed (not counted in the day's total), paying."""
    reason: Mapped[str | None] = mapped_column(String(200))
    """Why the payment failed, in the payer's words."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("merchant_code", "merchant_order_no"),
        Index("ix_payments_card_charge_card_created", "card_id", "created_at"),
        Index("ix_payments_card_charge_order_no", "order_no"),
    )
