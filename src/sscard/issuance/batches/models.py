"""Batch card-making tables: batches and card-making failures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK


class Batch(Base):
    """A batch card-making run (批量制卡): exported to the province, results imported."""

    __tablename__ = "issuance_batch"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    batch_no: Mapped[str] = mapped_column(String(32), unique=True)
    region_code: Mapped[str] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(24))
    """exported, sent, making, result_imported or closed."""
    card_count: Mapped[int] = mapped_column(Integer, default=0)
    made_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    rejected_count: Mapped[int] = mapped_column(Integer, default=0)
    """Result rows refused (unknown card, wrong status, bad card id code): see the reject file."""
    result_rows: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    """Why the last export, send or import of the batch stopped (cleared when it succeeds)."""
    export_path: Mapped[str | None] = mapped_column(String(500))
    export_digest: Mapped[str | None] = mapped_column(String(64))
    result_digest: Mapped[str | None] = mapped_column(String(64))
    result_next_line: Mapped[int] = mapped_column(Integer, default=0)
    """First result row not yet applied; an interrupted import resumes here."""
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    exported_at: Mapped[datetime | None]
    result_imported_at: Mapped[datetime | None]


class Failure(Base):
    """A card-making failure (制卡失败) a clerk resolves and resubmits."""

    __tablename__ = "issuance_failure"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    card_id: Mapped[str] = mapped_column(ForeignKey("issuance_card.id", ondelete="CASCADE"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("issuance_batch.id"))
    stage: Mapped[str] = mapped_column(String(16))
    """province, bank or vendor."""
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="open")
    """open, resubmitted or closed."""
    resolution: Mapped[str | None] = mapped_column(String(200))
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_issuance_failure_status", "status", "batch_id"),)
