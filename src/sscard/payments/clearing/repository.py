"""Every query of clearing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from sscard.payments.clearing.models import ClearingDay, ClearingLine


def day(session: Session, which: date) -> ClearingDay | None:
    return session.scalars(select(ClearingDay).where(ClearingDay.day == which)).first()


def lines(session: Session, which: date) -> list[ClearingLine]:
    return list(
        session.scalars(
            select(ClearingLine)
            .where(ClearingLine.day == which)
            .order_by(ClearingLine.party_kind, ClearingLine.party)
        )
    )


def days(session: Session, start: date, end: date) -> list[ClearingDay]:
    """Cleared days in ``[start, end]``, newest first."""
    return list(
        session.scalars(
            select(ClearingDay)
            .where(ClearingDay.day >= start, ClearingDay.day <= end)
            .order_by(ClearingDay.day.desc())
        )
    )


def add(session: Session, rows: Sequence[ClearingDay | ClearingLine]) -> None:
    session.add_all(rows)
    session.flush()
