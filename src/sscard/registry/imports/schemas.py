"""Import job output."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class ImportJobOut(BaseModel):
    id: int
    file_name: str
    source: str
    status: str
    rows_total: int
    rows_created: int
    rows_updated: int
    rows_unchanged: int
    rows_rejected: int
    next_line: int
    has_rejects: bool
    error: str | None
    created_at: datetime
    finished_at: datetime | None
