"""The import job table: one resumable bulk import of persons from a file."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK


class ImportJob(Base):
    """A bulk import of persons from a file: resumable, with counts and a reject file."""

    __tablename__ = "registry_import_job"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    file_name: Mapped[str] = mapped_column(String(255))
    file_digest: Mapped[str] = mapped_column(String(64), index=True)
    """SM3 of the file's bytes: the same file resumes the same job."""
    source: Mapped[str] = mapped_column(String(16))
    """cli or api."""
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("registry_employer.id"))
    status: Mapped[str] = mapped_column(String(16))
    """pending, running, completed or failed."""
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_created: Mapped[int] = mapped_column(Integer, default=0)
    rows_updated: Mapped[int] = mapped_column(Integer, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    next_line: Mapped[int] = mapped_column(Integer, default=0)
    """First data line not yet committed; an interrupted import resumes here."""
    reject_path: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
