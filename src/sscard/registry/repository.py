"""Every query of the registry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from sscard.registry.models import Community, Employer, Enrolment, ImportJob, Person, Photo

PERSON = cast(Table, Person.__table__)
ENROLMENT = cast(Table, Enrolment.__table__)


def person_by_index(session: Session, indexes: Sequence[bytes]) -> Person | None:
    stmt = select(Person).where(Person.id_number_index.in_(indexes))
    return session.scalars(stmt).first()


def person_by_id(session: Session, person_id: str) -> Person | None:
    return session.get(Person, person_id)


@dataclass(frozen=True, slots=True)
class PersonFilter:
    name_indexes: Sequence[bytes] | None = None
    birth_date: date | None = None
    employer_id: int | None = None
    community_code: str | None = None
    phone_indexes: Sequence[bytes] | None = None
    status: str | None = None
    region_prefix: str = ""


def _person_query(flt: PersonFilter) -> Select[Any]:
    stmt = select(Person)
    if flt.name_indexes is not None:
        stmt = stmt.where(Person.name_index.in_(flt.name_indexes))
    if flt.phone_indexes is not None:
        stmt = stmt.where(Person.phone_index.in_(flt.phone_indexes))
    if flt.birth_date is not None:
        stmt = stmt.where(Person.birth_date == flt.birth_date)
    if flt.employer_id is not None:
        stmt = stmt.where(Person.employer_id == flt.employer_id)
    if flt.community_code is not None:
        stmt = stmt.where(Person.community_code == flt.community_code)
    if flt.status is not None:
        stmt = stmt.where(Person.status == flt.status)
    if flt.region_prefix:
        stmt = stmt.where(
            or_(
                Person.residence_region_code.startswith(flt.region_prefix),
                Person.household_region_code.startswith(flt.region_prefix),
            )
        )
    return stmt


def search_persons(
    session: Session, flt: PersonFilter, *, offset: int, limit: int
) -> tuple[list[Person], int]:
    stmt = _person_query(flt)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Person.birth_date, Person.id).offset(offset).limit(limit))
    return [row for row in rows if isinstance(row, Person)], total


def existing_by_index(session: Session, indexes: Sequence[bytes]) -> dict[bytes, tuple[str, bytes]]:
    """index -> (person id, content digest) for the persons among ``indexes`` that exist."""
    stmt = select(PERSON.c.id_number_index, PERSON.c.id, PERSON.c.content_digest).where(
        PERSON.c.id_number_index.in_(indexes)
    )
    return {row[0]: (row[1], row[2]) for row in session.execute(stmt)}


def insert_persons(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(PERSON), rows)


def update_persons(session: Session, rows: list[dict[str, Any]]) -> None:
    """Bulk update by primary key (each row has ``id`` and the new values)."""
    if rows:
        session.execute(
            PERSON.update().where(PERSON.c.id == _bind("id")).values(version=PERSON.c.version + 1),
            [{**{k: v for k, v in row.items() if k != "id"}, "b_id": row["id"]} for row in rows],
        )


def _bind(name: str) -> Any:
    return bindparam(f"b_{name}")


def replace_enrolments(session: Session, person_ids: list[str], rows: list[dict[str, Any]]) -> None:
    if person_ids:
        session.execute(delete(Enrolment).where(Enrolment.person_id.in_(person_ids)))
    if rows:
        session.execute(insert(ENROLMENT), rows)


def enrolments_of(session: Session, person_id: str) -> list[Enrolment]:
    stmt = select(Enrolment).where(Enrolment.person_id == person_id)
    return list(session.scalars(stmt.order_by(Enrolment.insurance_type)))


def photo_of(session: Session, person_id: str) -> Photo | None:
    return session.get(Photo, person_id)


def has_photo(session: Session, person_id: str) -> bool:
    return session.scalar(select(func.count()).where(Photo.person_id == person_id)) == 1


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


def count_persons(
    session: Session, *, employer_id: int | None = None, community_code: str | None = None
) -> int:
    stmt = select(func.count()).select_from(Person)
    if employer_id is not None:
        stmt = stmt.where(Person.employer_id == employer_id)
    if community_code is not None:
        stmt = stmt.where(Person.community_code == community_code)
    return session.scalar(stmt) or 0


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


def existing_community_codes(session: Session, codes: Sequence[str]) -> set[str]:
    return set(session.scalars(select(Community.code).where(Community.code.in_(codes))))


def existing_employer_ids(session: Session, ids: Sequence[int]) -> set[int]:
    return set(session.scalars(select(Employer.id).where(Employer.id.in_(ids))))


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


def import_jobs(session: Session, *, employer_id: int | None, limit: int) -> list[ImportJob]:
    stmt = select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)
    if employer_id is not None:
        stmt = stmt.where(ImportJob.employer_id == employer_id)
    return list(session.scalars(stmt))
