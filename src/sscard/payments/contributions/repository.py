"""Queries of contributions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from sscard.payments.contributions.models import Contribution


def of_year(
    session: Session, person_id: str, year: int, *, lock: bool = False
) -> Contribution | None:
    query = select(Contribution).where(
        Contribution.person_id == person_id, Contribution.year == year
    )
    return session.scalars(query.with_for_update() if lock else query).first()


def by_order(session: Session, order_no: str, *, lock: bool = False) -> Contribution | None:
    query = select(Contribution).where(Contribution.order_no == order_no)
    return session.scalars(query.with_for_update() if lock else query).first()


def by_id(session: Session, contribution_id: int) -> Contribution | None:
    return session.get(Contribution, contribution_id)


def of_person(session: Session, person_id: str) -> Sequence[Contribution]:
    query = select(Contribution).where(Contribution.person_id == person_id)
    return session.scalars(query.order_by(Contribution.year.desc())).all()


def unpaid(session: Session, limit: int) -> Sequence[Contribution]:
    query = select(Contribution).where(Contribution.status == "unpaid")
    return session.scalars(query.order_by(Contribution.id).limit(limit)).all()


def in_region(
    session: Session, prefix: str, status: str | None, page: int, page_size: int
) -> Sequence[Contribution]:
    query = select(Contribution).where(Contribution.region_code.startswith(prefix))
    if status:
        query = query.where(Contribution.status == status)
    query = query.order_by(Contribution.id.desc()).offset((page - 1) * page_size)
    return session.scalars(query.limit(page_size)).all()


def add(session: Session, row: Contribution) -> None:
    session.add(row)
    session.flush()
