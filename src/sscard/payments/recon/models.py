"""Reconciliation tables: imported daily files and the differences found in them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK


class ReconImport(Base):
    """A daily file imported (对账文件) from a bank or the acquirer."""

    __tablename__ = "payments_recon_import"
    __table_args__ = (UniqueConstraint("day", "source", "party"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    day: Mapped[date]
    source: Mapped[str] = mapped_column(String(16))
    """bank or acquirer."""
    party: Mapped[str] = mapped_column(String(64))
    """The bank's institution code or the acquirer's code."""
    file_sm3: Mapped[str] = mapped_column(String(64))
    lines: Mapped[int] = mapped_column(Integer)
    debit_fen: Mapped[int] = mapped_column(BigInteger)
    credit_fen: Mapped[int] = mapped_column(BigInteger)
    matched: Mapped[int] = mapped_column(Integer)
    """Records that agreed with our books."""
    differences: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(80))
    imported_at: Mapped[datetime]


class ReconDifference(Base):
    """A difference (差错) between our books and a daily file, and how a clerk resolved it.

    ``state``: open (待处理), awaiting_approval (待复核, above the four-eyes limit),
    resolved (已处理).
    """

    __tablename__ = "payments_recon_difference"
    __table_args__ = (
        UniqueConstraint("day", "source", "party", "ref"),
        Index("ix_payments_recon_difference_day_state", "day", "state"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    day: Mapped[date]
    source: Mapped[str] = mapped_column(String(16))
    party: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str] = mapped_column(String(64))
    """Order number, or ``ref:<refund_no>`` for a refund."""
    kind: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8))
    merchant_code: Mapped[str | None] = mapped_column(String(32), index=True)
    bank_code: Mapped[str | None] = mapped_column(String(64))
    ours_fen: Mapped[int | None] = mapped_column(BigInteger)
    theirs_fen: Mapped[int | None] = mapped_column(BigInteger)
    ours_status: Mapped[str | None] = mapped_column(String(16))
    theirs_status: Mapped[str | None] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(20))
    action: Mapped[str | None] = mapped_column(String(16))
    """adjust (调账) or accept (确认无需调账)."""
    adjust_fen: Mapped[int | None] = mapped_column(BigInteger)
    """The adjusting transfer's amount, in fen."""
    debit_account: Mapped[str | None] = mapped_column(String(96))
    credit_account: Mapped[str | None] = mapped_column(String(96))
    reason: Mapped[str | None] = mapped_column(String(200))
    transfer_ref: Mapped[str | None] = mapped_column(String(64))
    resolved_by: Mapped[str | None] = mapped_column(String(80))
    resolved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(80))
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
