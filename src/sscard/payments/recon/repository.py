"""Every query of reconciliation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from sscard.payments.recon.models import ReconDifference, ReconImport


def import_of(session: Session, day: date, source: str, party: str) -> ReconImport | None:
    return session.scalars(
        select(ReconImport).where(
            ReconImport.day == day, ReconImport.source == source, ReconImport.party == party
        )
    ).first()


def imports(session: Session, day: date) -> list[ReconImport]:
    return list(
        session.scalars(
            select(ReconImport)
            .where(ReconImport.day == day)
            .order_by(ReconImport.source, ReconImport.party)
        )
    )


def recent_days(session: Session, limit: int) -> list[date]:
    return list(
        session.scalars(
            select(ReconImport.day).distinct().order_by(ReconImport.day.desc()).limit(limit)
        )
    )


def add(session: Session, rows: Sequence[ReconImport | ReconDifference]) -> None:
    session.add_all(rows)
    session.flush()


def difference(session: Session, diff_id: int, *, lock: bool = False) -> ReconDifference | None:
    stmt = select(ReconDifference).where(ReconDifference.id == diff_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def differences(
    session: Session,
    *,
    day: date | None,
    filters: dict[str, str | None],
    offset: int,
    limit: int,
) -> tuple[list[ReconDifference], int]:
    stmt = select(ReconDifference)
    if day is not None:
        stmt = stmt.where(ReconDifference.day == day)
    for column, value in filters.items():
        if value:
            stmt = stmt.where(getattr(ReconDifference, column) == value)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(ReconDifference.day.desc(), ReconDifference.id).offset(offset).limit(limit)
    )
    return list(rows), total


def counts_by_merchant(session: Session, day: date) -> dict[str, tuple[int, int]]:
    """merchant -> (differences, still open or awaiting approval)."""
    open_case = func.sum(case((ReconDifference.state != "resolved", 1), else_=0))
    rows = session.execute(
        select(ReconDifference.merchant_code, func.count(), open_case)
        .where(ReconDifference.day == day)
        .group_by(ReconDifference.merchant_code)
    )
    return {(r[0] or ""): (int(r[1]), int(r[2] or 0)) for r in rows}


def counts_by_kind(session: Session, day: date) -> dict[str, int]:
    rows = session.execute(
        select(ReconDifference.kind, func.count())
        .where(ReconDifference.day == day)
        .group_by(ReconDifference.kind)
    )
    return {r[0]: int(r[1]) for r in rows}
