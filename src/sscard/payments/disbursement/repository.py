"""Every query of disbursement."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from sscard.payments.disbursement.models import (
    DisbursementBatch,
    DisbursementFile,
    DisbursementLine,
)


def add(
    session: Session, rows: Sequence[DisbursementBatch | DisbursementFile | DisbursementLine]
) -> None:
    session.add_all(rows)
    session.flush()


def batch_by_no(session: Session, batch_no: str, *, lock: bool = False) -> DisbursementBatch | None:
    stmt = select(DisbursementBatch).where(DisbursementBatch.batch_no == batch_no)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def batch_by_id(session: Session, batch_id: int) -> DisbursementBatch | None:
    return session.get(DisbursementBatch, batch_id)


def batch_by_digest(session: Session, digest: str) -> DisbursementBatch | None:
    stmt = select(DisbursementBatch).where(DisbursementBatch.source_sm3 == digest)
    return session.scalars(stmt).first()


def batch_numbers_like(session: Session, prefix: str) -> int:
    stmt = select(func.count()).where(DisbursementBatch.batch_no.startswith(prefix))
    return int(session.scalar(stmt) or 0)


def batches(
    session: Session, *, status: str | None, region_prefix: str, offset: int, limit: int
) -> tuple[list[DisbursementBatch], int]:
    stmt = select(DisbursementBatch)
    if status:
        stmt = stmt.where(DisbursementBatch.status == status)
    if region_prefix:
        stmt = stmt.where(DisbursementBatch.region_code.startswith(region_prefix, autoescape=True))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(DisbursementBatch.id.desc()).offset(offset).limit(limit))
    return list(rows), total


def already_paid(session: Session, person_ids: Collection[str], kind: str, period: str) -> set[str]:
    """Of ``person_ids``, those with a line of this kind and period not resolved by hand."""
    if not person_ids:
        return set()
    stmt = select(DisbursementLine.person_id).where(
        DisbursementLine.person_id.in_(sorted(person_ids)),
        DisbursementLine.kind == kind,
        DisbursementLine.period == period,
        DisbursementLine.status != "resolved",
        DisbursementLine.retry_of_id.is_(None),
    )
    return set(session.scalars(stmt))


def lines(
    session: Session,
    *,
    batch_id: int | None,
    status: str | None,
    region_prefix: str,
    offset: int,
    limit: int,
) -> tuple[list[DisbursementLine], int]:
    stmt = select(DisbursementLine).join(
        DisbursementBatch, DisbursementBatch.id == DisbursementLine.batch_id
    )
    if batch_id is not None:
        stmt = stmt.where(DisbursementLine.batch_id == batch_id)
    if status:
        stmt = stmt.where(DisbursementLine.status == status)
    if region_prefix:
        stmt = stmt.where(DisbursementBatch.region_code.startswith(region_prefix, autoescape=True))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(DisbursementLine.id).offset(offset).limit(limit))
    return list(rows), total


def line(session: Session, line_id: int, *, lock: bool = False) -> DisbursementLine | None:
    stmt = select(DisbursementLine).where(DisbursementLine.id == line_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def lines_of_file(session: Session, file_id: int) -> dict[int, DisbursementLine]:
    stmt = select(DisbursementLine).where(DisbursementLine.file_id == file_id)
    return {row.id: row for row in session.scalars(stmt)}


def pending_lines(session: Session, batch_id: int) -> list[DisbursementLine]:
    stmt = (
        select(DisbursementLine)
        .where(DisbursementLine.batch_id == batch_id, DisbursementLine.status == "pending")
        .order_by(DisbursementLine.bank_code, DisbursementLine.id)
    )
    return list(session.scalars(stmt))


def failed_lines(session: Session, *, fail_code: str | None = None) -> list[DisbursementLine]:
    stmt = select(DisbursementLine).where(DisbursementLine.status == "failed")
    if fail_code:
        stmt = stmt.where(DisbursementLine.fail_code == fail_code)
    return list(session.scalars(stmt.order_by(DisbursementLine.id)))


def files_of(
    session: Session, batch_id: int, statuses: Collection[str] = ()
) -> list[DisbursementFile]:
    stmt = select(DisbursementFile).where(DisbursementFile.batch_id == batch_id)
    if statuses:
        stmt = stmt.where(DisbursementFile.status.in_(sorted(statuses)))
    return list(session.scalars(stmt.order_by(DisbursementFile.id)))


def file_by_no(session: Session, file_no: str, *, lock: bool = False) -> DisbursementFile | None:
    stmt = select(DisbursementFile).where(DisbursementFile.file_no == file_no)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def file_count(session: Session, batch_id: int) -> int:
    stmt = select(func.count()).where(DisbursementFile.batch_id == batch_id)
    return int(session.scalar(stmt) or 0)


def batches_with_open_files(session: Session) -> list[str]:
    stmt = (
        select(DisbursementBatch.batch_no)
        .join(DisbursementFile, DisbursementFile.batch_id == DisbursementBatch.id)
        .where(DisbursementFile.status.in_(("prepared", "sent")))
        .distinct()
    )
    return list(session.scalars(stmt))


def totals(session: Session, batch_id: int | None) -> dict[str, int]:
    """Sums of the lines (of one batch, or all) by what their money is doing, in fen."""
    line = DisbursementLine

    def total(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, line.amount_fen), else_=0)), 0)

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    original = line.retry_of_id.is_(None)
    stmt = select(
        count(original),
        total(original),
        total(original & (line.status != "pending")),
        total(line.status == "paid"),
        total(line.status == "failed"),
        total(line.status == "failed") + total((line.status == "sent") & ~original),
        count(line.status == "paid"),
        count(line.status == "failed"),
        total(line.status == "sent"),
    )
    if batch_id is not None:
        stmt = stmt.where(line.batch_id == batch_id)
    row = session.execute(stmt).one()
    names = (
        "lines",
        "total_fen",
        "sent_fen",
        "paid_fen",
        "failed_fen",
        "in_suspense_fen",
        "paid_lines",
        "failed_lines",
        "in_flight_fen",
    )
    return {name: int(value or 0) for name, value in zip(names, row, strict=True)}
