from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    chain: int
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
    chains: int = 1
    head_seq: int
    """Sum of the chains' sequence numbers (entries written)."""
    head_hash: str
    """SM3 over every chain's tip: one value to keep outside the database."""
    broken_chain: int | None = None
    broken_seq: int | None = None
    broken_entry_id: int | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class EntryFilter:
    """What to look for in the log; every given field must match (``action`` is a prefix)."""

    actor_id: str | None = None
    actor_kind: str | None = None
    action: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    outcome: str | None = None
    request_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
