from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    occurred_at: datetime
    actor_kind: str
    actor_id: str
    actor_name: str | None
    institution_code: str | None
    action: str
    subject_type: str | None
    subject_id: str | None
    subject_display: str | None
    fields: list[str]
    purpose: str | None
    request_id: str | None
    client_ip: str | None
    channel: str | None
    outcome: str
    detail: dict[str, Any]
    entry_hash: str


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    total: int
    page: int
    page_size: int


class ChainReport(BaseModel):
    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    broken_entry_id: int | None = None
    reason: str | None = None
