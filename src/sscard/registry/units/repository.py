"""Every query of employers and communities (and the count of persons registered with one)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import column, func, select, table
from sqlalchemy.orm import Session

from sscard.registry.units.models import Community, Employer

_person = table("registry_person", column("employer_id"), column("community_code"))
"""The persons sub-package's table, read as a plain table: persons build on units."""


def employer(session: Session, employer_id: int) -> Employer | None:
    return session.get(Employer, employer_id)


def employer_by_credit_code(session: Session, credit_code: str) -> Employer | None:
    return session.scalars(select(Employer).where(Employer.credit_code == credit_code)).first()


def employers(
    session: Session, *, name: str | None, region_prefix: str, offset: int, limit: int
) -> tuple[list[Employer], int]:
    stmt = select(Employer)
    if name:
        stmt = stmt.where(Employer.name.contains(name))
    if region_prefix:
        stmt = stmt.where(Employer.region_code.startswith(region_prefix))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Employer.name).offset(offset).limit(limit))
    return list(rows), total


def employer_ids_by_credit_code(session: Session, codes: Sequence[str]) -> dict[str, int]:
    stmt = select(Employer.credit_code, Employer.id).where(Employer.credit_code.in_(codes))
    return {row[0]: row[1] for row in session.execute(stmt)}


def employer_names(session: Session, ids: Sequence[int]) -> dict[int, str]:
    stmt = select(Employer.id, Employer.name).where(Employer.id.in_(ids))
    return {row[0]: row[1] for row in session.execute(stmt)}


def employer_directory(session: Session) -> dict[str, int]:
    """credit code -> id of every employer."""
    return {row[0]: row[1] for row in session.execute(select(Employer.credit_code, Employer.id))}


def existing_employer_ids(session: Session, ids: Sequence[int]) -> set[int]:
    return set(session.scalars(select(Employer.id).where(Employer.id.in_(ids))))


def community(session: Session, code: str) -> Community | None:
    return session.get(Community, code)


def communities(
    session: Session, *, township_code: str | None, region_prefix: str, offset: int, limit: int
) -> tuple[list[Community], int]:
    stmt = select(Community)
    if township_code:
        stmt = stmt.where(Community.township_code == township_code)
    if region_prefix:
        stmt = stmt.where(Community.region_code.startswith(region_prefix))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Community.code).offset(offset).limit(limit))
    return list(rows), total


def community_names(session: Session, codes: Sequence[str]) -> dict[str, str]:
    stmt = select(Community.code, Community.name).where(Community.code.in_(codes))
    return {row[0]: row[1] for row in session.execute(stmt)}


def existing_community_codes(session: Session, codes: Sequence[str]) -> set[str]:
    return set(session.scalars(select(Community.code).where(Community.code.in_(codes))))


def count_persons(
    session: Session, *, employer_id: int | None = None, community_code: str | None = None
) -> int:
    stmt = select(func.count()).select_from(_person)
    if employer_id is not None:
        stmt = stmt.where(_person.c.employer_id == employer_id)
    if community_code is not None:
        stmt = stmt.where(_person.c.community_code == community_code)
    return session.scalar(stmt) or 0


def add_employer(session: Session, employer: Employer) -> Employer:
    session.add(employer)
    session.flush()
    return employer


def add_community(session: Session, community: Community) -> Community:
    session.add(community)
    session.flush()
    return community
