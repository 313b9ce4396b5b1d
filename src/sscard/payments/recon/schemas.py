"""Reconciliation input and output. Amounts are integer fen (分)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints


class DiffState(StrEnum):
    open = "open"
    awaiting_approval = "awaiting_approval"
    resolved = "resolved"


STATE_NAMES = {
    DiffState.open: "待处理",
    DiffState.awaiting_approval: "待复核",
    DiffState.resolved: "已处理",
}


class Action(StrEnum):
    adjust = "adjust"
    """Post the adjusting transfer (调账)."""
    accept = "accept"
    """No money moves (确认无需调账): a timing difference that the next day clears ..."""


ACTION_NAMES = {Action.adjust: "调账", Action.accept: "确认无需调账"}


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Action
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]


class ImportOut(BaseModel):
    id: int
    day: date
    source: str
    party: str
    file_sm3: str
    lines: int
    debit_fen: int
    credit_fen: int
    matched: int
    differences: int
    imported_by: str
    imported_at: datetime


class DifferenceOut(BaseModel):
    id: int
    day: date
    source: str
    party: str
    ref: str
    kind: str
    kind_name: str
    direction: str
    merchant_code: str | None
    bank_code: str | None
    ours_fen: int | None
    theirs_fen: int | None
    ours_status: str | None
    theirs_status: str | None
    state: DiffState
    state_name: str
    action: str | None
    adjust_fen: int | None
    """The adjusting transfer's amount (fen) for ``adjust``."""
    debit_account: str | None
    credit_account: str | None
    reason: str | None
    transfer_ref: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    needs_second_operator: bool


class DifferencePage(BaseModel):
    items: list[DifferenceOut]
    total: int


class MerchantReportRow(BaseModel):
    """One merchant's day: counts, amounts, fee, net and differences."""

    merchant_code: str
    pay_count: int
    pay_fen: int
    refund_count: int
    refund_fen: int
    fee_fen: int
    net_fen: int
    differences: int
    open_differences: int


class DayReport(BaseModel):
    day: date
    cleared: bool
    imports: list[ImportOut]
    merchants: list[MerchantReportRow]
    differences_by_kind: dict[str, int]
