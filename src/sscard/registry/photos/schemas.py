"""Card photo output."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class PhotoInfo(BaseModel):
    width: int
    height: int
    size_bytes: int
    uploaded_at: datetime
    uploaded_by: str
