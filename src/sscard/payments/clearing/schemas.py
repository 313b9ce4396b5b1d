"""Clearing output. Amounts are integer fen (分)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class ClearingLineOut(BaseModel):
    party_kind: str
    """merchant or bank."""
    party: str
    pay_count: int
    pay_fen: int
    refund_count: int
    refund_fen: int
    fee_fen: int
    net_fen: int
    """Merchant: paid out; bank: what it owes the platform (negative: what it is owed)."""


class ClearingDayOut(BaseModel):
    day: date
    cutoff: str
    pay_count: int
    pay_fen: int
    refund_count: int
    refund_fen: int
    fee_fen: int
    settled_fen: int
    file_name: str
    file_sm3: str
    run_by: str
    run_at: datetime
    merchants: list[ClearingLineOut]
    banks: list[ClearingLineOut]


class ClearingDaySummary(BaseModel):
    day: date
    pay_count: int
    pay_fen: int
    refund_fen: int
    fee_fen: int
    settled_fen: int
    run_at: datetime
