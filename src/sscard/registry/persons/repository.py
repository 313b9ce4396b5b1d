"""Every query of persons and their enrolments: one at a time, or in bulk for imports.

Bulk writes take rows as tuples in :data:`PERSON_COLUMNS` order and go in with ``COPY`` on
PostgreSQL (one driver-level executemany elsewhere). :func:`has_photo` reads the photo table
of the photos sub-package, for a person's view only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Dialect,
    Integer,
    LargeBinary,
    Select,
    String,
    Table,
    bindparam,
    column,
    delete,
    func,
    insert,
    or_,
    select,
    table,
)
from sqlalchemy.orm import Session

from sscard.registry.persons.models import Enrolment, Person

_photo = table("registry_photo", column("person_id"))
"""The photos sub-package's table, read as a plain table: photos build on persons."""

PERSON = cast(Table, Person.__table__)
ENROLMENT = cast(Table, Enrolment.__table__)


def person_by_index(session: Session, indexes: Sequence[bytes]) -> Person | None:
    stmt = select(Person).where(Person.id_number_index.in_(indexes))
    return session.scalars(stmt).first()


def person_by_id(session: Session, person_id: str) -> Person | None:
    return session.get(Person, person_id)


def add_person(session: Session, person: Person) -> None:
    session.add(person)
    session.flush()


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


def has_photo(session: Session, person_id: str) -> bool:
    return (
        session.scalar(
            select(func.count()).select_from(_photo).where(_photo.c.person_id == person_id)
        )
        == 1
    )


# ---- bulk writes ---------------------------------------------------------------------

PERSON_COLUMNS: tuple[str, ...] = tuple(c.name for c in PERSON.columns)
"""The person table's columns, in the order :func:`insert_person_rows` takes values."""
ENROLMENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in ENROLMENT.columns)


def _bulk_insert(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert tuples: ``COPY`` on PostgreSQL, one driver-level executemany elsewhere."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        _copy(connection, table, columns, rows)
        return
    compiled = insert(table).compile(dialect=connection.dialect, column_keys=list(columns))
    order = [columns.index(name) for name in compiled.positiontup or ()]
    converters = [
        (position, convert)
        for position, index in enumerate(order)
        if (convert := _converter(table.c[columns[index]].type, connection.dialect)) is not None
    ]
    params = []
    for row in rows:
        values = [row[i] for i in order]
        for position, convert in converters:
            if values[position] is not None:
                values[position] = convert(values[position])
        params.append(tuple(values))
    connection.exec_driver_sql(str(compiled), params)


def _converter(kind: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's bind conversion; none for bytes, which the driver takes as they are."""
    if isinstance(kind, LargeBinary | String | Integer):
        return None
    found: Callable[[Any], Any] | None = kind._cached_bind_processor(dialect)
    return found


def _copy(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    driver: Any = connection.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def insert_person_rows(session: Session, rows: Sequence[Sequence[Any]]) -> None:
    """Insert person rows given as tuples in :data:`PERSON_COLUMNS` order."""
    _bulk_insert(session, PERSON, PERSON_COLUMNS, rows)


def insert_enrolment_rows(session: Session, rows: Sequence[Sequence[Any]]) -> None:
    """Insert enrolment rows given as tuples in :data:`ENROLMENT_COLUMNS` order."""
    _bulk_insert(session, ENROLMENT, ENROLMENT_COLUMNS, rows)


def persons_by_ids(session: Session, person_ids: Sequence[str]) -> list[Person]:
    return list(session.scalars(select(Person).where(Person.id.in_(person_ids))))


def brief(session: Session, person_id: str) -> dict[str, Any] | None:
    """A person's masked identity columns, without loading the mapped object."""
    columns = (
        PERSON.c.id,
        PERSON.c.id_number_masked,
        PERSON.c.name_masked,
        PERSON.c.gender,
        PERSON.c.birth_date,
        PERSON.c.residence_region_code,
        PERSON.c.status,
    )
    row = session.execute(select(*columns).where(PERSON.c.id == person_id)).mappings().first()
    return dict(row) if row else None


def enrolments_for(session: Session, person_ids: Sequence[str]) -> dict[str, list[Enrolment]]:
    """Enrolments of many persons at once, by person id."""
    found: dict[str, list[Enrolment]] = {pid: [] for pid in person_ids}
    stmt = select(Enrolment).where(Enrolment.person_id.in_(person_ids))
    for enrolment in session.scalars(stmt.order_by(Enrolment.insurance_type)):
        found[enrolment.person_id].append(enrolment)
    return found
