"""Instant card making tables: the first answer to each idempotent bank call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base


class IdempotentCall(Base):
    """The first answer to a bank's call with an idempotency key: a retry gets it again."""

    __tablename__ = "issuance_idempotent_call"

    institution_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    operation: Mapped[str] = mapped_column(String(32))
    request_digest: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
