"""Batch card-making input and output."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

NoteText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int | None = Field(default=None, ge=1, le=1_000_000)


class SendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    encrypt: bool = False


class FailureNoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: NoteText


class BatchOut(BaseModel):
    batch_no: str
    region_code: str
    status: str
    status_name: str
    card_count: int
    made_count: int
    failed_count: int
    rejected_count: int
    result_rows: int
    result_next_line: int
    progress: dict[str, int]
    """Cards of the batch per status (a resubmitted card counts in its new batch)."""
    export_digest: str | None
    result_digest: str | None
    error: str | None
    created_by: str
    created_at: datetime
    exported_at: datetime | None
    result_imported_at: datetime | None


class HeldCard(BaseModel):
    card_number: str | None
    id_number: str
    reason: str


class ExportReport(BaseModel):
    batch: BatchOut
    resumed: bool
    """True when this run finished an export that had stopped, instead of starting one."""
    held: int
    held_cards: list[HeldCard]
    unresolved_codes: int


class FetchReport(BaseModel):
    batch: BatchOut
    ready: bool
    province_status: str
    province_detail: str


class RejectOut(BaseModel):
    line: int
    seq: str
    card_number: str
    id_number: str
    reason: str


class ImportReport(BaseModel):
    batch: BatchOut
    rows: int
    made: int
    failed: int
    rejected: int
    unchanged: int
    already_imported: bool
    resumed_at: int
    rejects: list[RejectOut]


class FailureOut(BaseModel):
    id: int
    batch_no: str | None
    card_number: str | None
    holder_id_number: str
    holder_name: str
    employer: str | None
    stage: str
    stage_name: str
    reason: str
    status: str
    resolution: str | None
    resolved_by: str | None
    created_at: datetime
    resolved_at: datetime | None


class PendingOut(BaseModel):
    """A batch-mode application waiting for the next batch (待制卡申请), holder masked."""

    card_id: str
    card_number: str | None
    holder_name: str
    holder_id_number: str
    bank_code: str
    pickup_place: str | None
    applied_at: datetime
    applied_by: str


class PendingPage(BaseModel):
    items: list[PendingOut]
    total: int
    page: int
    page_size: int
