"""Clearing tables: one row per clearing day run, one per merchant or bank of that day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK


class ClearingDay(Base):
    """A clearing day (清算日) once run: what it moved, and its settlement file."""

    __tablename__ = "payments_clearing_day"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(unique=True)
    cutoff: Mapped[str] = mapped_column(String(5))
    """The cut-off (Beijing HH:MM) the day was cleared with."""
    pay_count: Mapped[int] = mapped_column(Integer)
    pay_fen: Mapped[int] = mapped_column(BigInteger)
    refund_count: Mapped[int] = mapped_column(Integer)
    refund_fen: Mapped[int] = mapped_column(BigInteger)
    fee_fen: Mapped[int] = mapped_column(BigInteger)
    """Fees taken from merchants that day (to fee income), in fen."""
    settled_fen: Mapped[int] = mapped_column(BigInteger)
    """Paid out to merchants (merchant -> the reserve bank's clearing account), in fen."""
    file_name: Mapped[str] = mapped_column(String(80))
    file_sm3: Mapped[str] = mapped_column(String(64))
    run_by: Mapped[str] = mapped_column(String(80))
    run_at: Mapped[datetime]


class ClearingLine(Base):
    """One merchant's settlement or one bank's clearing position for a day."""

    __tablename__ = "payments_clearing_line"
    __table_args__ = (UniqueConstraint("day", "party_kind", "party"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(index=True)
    party_kind: Mapped[str] = mapped_column(String(16))
    """merchant or bank."""
    party: Mapped[str] = mapped_column(String(64))
    """The merchant code or the bank's institution code."""
    pay_count: Mapped[int] = mapped_column(Integer)
    pay_fen: Mapped[int] = mapped_column(BigInteger)
    refund_count: Mapped[int] = mapped_column(Integer)
    refund_fen: Mapped[int] = mapped_column(BigInteger)
    fee_fen: Mapped[int] = mapped_column(BigInteger)
    """A merchant's fee; 0 for a bank."""
    net_fen: Mapped[int] = mapped_column(BigInteger)
    """Merchant: paid out (payments - refunds - fee, 0 if not positive); bank: what it owes
    us (payments - refunds; negative when we owe it)."""
