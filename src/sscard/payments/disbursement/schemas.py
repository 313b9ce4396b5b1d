"""Disbursement input and output. Amounts are integer fen (分)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints


class BatchStatus(StrEnum):
    validated = "validated"
    sent = "sent"
    returned = "returned"
    closed = "closed"


class LineStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    paid = "paid"
    failed = "failed"
    retried = "retried"
    resolved = "resolved"


class LineFilter(StrEnum):
    all = "all"
    pending = "pending"
    sent = "sent"
    paid = "paid"
    failed = "failed"
    retried = "retried"
    resolved = "resolved"


class BatchFilter(StrEnum):
    all = "all"
    validated = "validated"
    sent = "sent"
    returned = "returned"
    closed = "closed"


BATCH_STATUS_NAMES = {
    BatchStatus.validated: "已校验待发放",
    BatchStatus.sent: "已发送银行",
    BatchStatus.returned: "银行已回盘",
    BatchStatus.closed: "已办结",
}
LINE_STATUS_NAMES = {
    LineStatus.pending: "待发送",
    LineStatus.sent: "已发送银行",
    LineStatus.paid: "已到账",
    LineStatus.failed: "发放失败（资金挂账）",
    LineStatus.retried: "已重新发放",
    LineStatus.resolved: "已人工处理",
}

Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]


class ResolveIn(BaseModel):
    """Close a failed line by hand: its money goes back to the benefit fund."""

    model_config = ConfigDict(extra="forbid")

    note: Note


class Totals(BaseModel):
    """A batch's money, in fen: imported, sent to banks, paid, and failed (in suspense)."""

    lines: int
    total_fen: int
    sent_fen: int
    paid_fen: int
    failed_fen: int
    in_suspense_fen: int
    paid_lines: int
    failed_lines: int


class BatchOut(BaseModel):
    batch_no: str
    kind: str
    kind_name: str
    period: str
    source_name: str
    status: BatchStatus
    status_name: str
    region_code: str
    institution_code: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    totals: Totals


class LineOut(BaseModel):
    id: int
    batch_no: str
    row_no: int
    id_number: str
    """Masked."""
    name: str
    """Masked."""
    kind: str
    period: str
    card_number: str
    bank_code: str
    bank_account: str
    """Masked."""
    amount_fen: int
    status: LineStatus
    status_name: str
    fail_code: str | None
    fail_reason: str | None
    retry_of: int | None
    note: str | None
    updated_at: datetime


class FileOut(BaseModel):
    file_no: str
    bank_code: str
    status: str
    line_count: int
    total_fen: int
    paid_count: int
    failed_count: int
    sent_at: datetime | None
    returned_at: datetime | None


class RunReport(BaseModel):
    """What a send, fetch or retry did."""

    batch_no: str | None
    files_sent: int = 0
    files_returned: int = 0
    lines_paid: int = 0
    lines_failed: int = 0
    lines_retried: int = 0
    problems: list[str] = []


class InvariantReport(BaseModel):
    """Money out of the benefit fund = money the banks confirmed + money in suspense.

    ``out_fen``, ``confirmed_fen`` and ``suspense_fen`` are read from the ledger (posted
    disbursement transfers); the line sums are read from the lines and must agree."""

    ok: bool
    out_fen: int
    confirmed_fen: int
    suspense_fen: int
    in_flight_fen: int
    paid_lines_fen: int
    suspense_lines_fen: int
    reason: str | None = None
