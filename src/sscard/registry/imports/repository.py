"""Every query of import jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.orm import Session

from sscard.registry.imports.models import ImportJob


def import_job(session: Session, job_id: int) -> ImportJob | None:
    return session.get(ImportJob, job_id)


def unfinished_job(session: Session, digest: str, employer_id: int | None) -> ImportJob | None:
    stmt = (
        select(ImportJob)
        .where(
            ImportJob.file_digest == digest,
            ImportJob.employer_id.is_(None)
            if employer_id is None
            else ImportJob.employer_id == employer_id,
        )
        .order_by(ImportJob.id.desc())
    )
    return session.scalars(stmt).first()


def import_jobs(
    session: Session,
    *,
    employer_id: int | None,
    limit: int,
    status: str | None = None,
    created_by: list[str] | None = None,
) -> list[ImportJob]:
    stmt = select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)
    if employer_id is not None:
        stmt = stmt.where(ImportJob.employer_id == employer_id)
    if status is not None:
        stmt = stmt.where(ImportJob.status == status)
    if created_by is not None:
        stmt = stmt.where(ImportJob.created_by.in_(created_by))
    return list(session.scalars(stmt))


def add_import_job(session: Session, job: ImportJob) -> ImportJob:
    session.add(job)
    session.flush()
    return job


def claim_import_job(
    session: Session, job_id: int, *, now: datetime, stale_before: datetime
) -> bool:
    """Mark the job running unless another process is running it (fresh heartbeat)."""
    stmt = (
        update(ImportJob)
        .where(
            ImportJob.id == job_id,
            or_(
                ImportJob.status.in_(("pending", "failed")),
                and_(ImportJob.status == "running", ImportJob.updated_at < stale_before),
            ),
        )
        .values(status="running", updated_at=now, error=None)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], session.execute(stmt)).rowcount == 1


def upload_in_use(session: Session, digest: str, *, besides: int | None = None) -> bool:
    """Whether an API job (other than ``besides``) that is pending or running still reads
    this upload (a failed job is resumed by posting its file again)."""
    stmt = select(func.count()).where(
        ImportJob.file_digest == digest,
        ImportJob.source == "api",
        ImportJob.status.in_(("pending", "running")),
    )
    if besides is not None:
        stmt = stmt.where(ImportJob.id != besides)
    return bool(session.scalar(stmt))


def job_busy(session: Session, job_id: int, *, stale_before: datetime) -> bool:
    """Whether the job is running, or pending to run, and has moved since ``stale_before``."""
    stmt = select(func.count()).where(
        ImportJob.id == job_id,
        ImportJob.status.in_(("pending", "running")),
        ImportJob.updated_at >= stale_before,
    )
    return bool(session.scalar(stmt))


def reload(session: Session, job: ImportJob) -> None:
    """Read the job's row again (after a bulk update that bypassed the session)."""
    session.refresh(job)
