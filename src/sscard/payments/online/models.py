"""Online-banking tables: the payments started on a bank's pay page and the notices received."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK


class OnlinePayment(Base):
    """An order sent to a bank's pay page (网银支付), one row per order."""

    __tablename__ = "payments_online_payment"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    order_no: Mapped[str] = mapped_column(String(20), unique=True)
    bank_code: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    """The order's amount in fen as signed into the pay request."""
    status: Mapped[str] = mapped_column(String(16), index=True)
    """redirected (the browser went to the bank), paid (a verified notice or status query
    said so), refused (the bank's notice disagreed with the order)."""
    bank_ref: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]


class OnlineNotice(Base):
    """A bank notice whose signature held, with the answer given (replays get it again)."""

    __tablename__ = "payments_online_notice"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    notice_id: Mapped[str] = mapped_column(String(64), unique=True)
    order_no: Mapped[str] = mapped_column(String(20), index=True)
    bank_code: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(16))
    """accepted (order paid) or refused (amount or order did not match)."""
    reason: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime]
