"""Every query of entity mappings and the unresolved-code queue."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sscard.exchange.mapping.models import EntityMapping, UnresolvedCode
from sscard.exchange.mapping.schemas import Unresolved
from sscard.exchange.translation.models import ExternalSystem

IN_CHUNK = 500
"""Codes per ``IN`` query: memory stays bounded however large a file is."""


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


def system(session: Session, key: str) -> ExternalSystem | None:
    return session.get(ExternalSystem, key)


# ---- the mapping table -----------------------------------------------------------------


def to_external(session: Session, system: str, kind: str, codes: Iterable[str]) -> dict[str, str]:
    """Our code -> the system's code, for those of ``codes`` that are mapped."""
    found: dict[str, str] = {}
    for part in _chunks(sorted({c for c in codes if c})):
        stmt = select(EntityMapping.code, EntityMapping.external_code).where(
            EntityMapping.system_key == system,
            EntityMapping.kind == kind,
            EntityMapping.code.in_(part),
        )
        found.update({row[0]: row[1] for row in session.execute(stmt)})
    return found


def to_internal(session: Session, system: str, kind: str, codes: Iterable[str]) -> dict[str, str]:
    """The system's code -> ours, for those of ``codes`` that are mapped."""
    found: dict[str, str] = {}
    for part in _chunks(sorted({c for c in codes if c})):
        stmt = select(EntityMapping.external_code, EntityMapping.code).where(
            EntityMapping.system_key == system,
            EntityMapping.kind == kind,
            EntityMapping.external_code.in_(part),
        )
        found.update({row[0]: row[1] for row in session.execute(stmt)})
    return found


def mappings(
    session: Session,
    *,
    system: str | None,
    kind: str | None,
    code: str | None,
    limit: int,
    offset: int,
) -> list[EntityMapping]:
    """Mappings, by system, kind and code (ours or theirs)."""
    stmt = select(EntityMapping).order_by(
        EntityMapping.system_key, EntityMapping.kind, EntityMapping.code
    )
    if system:
        stmt = stmt.where(EntityMapping.system_key == system)
    if kind:
        stmt = stmt.where(EntityMapping.kind == kind)
    if code:
        stmt = stmt.where(or_(EntityMapping.code == code, EntityMapping.external_code == code))
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def mapping(session: Session, system: str, kind: str, code: str) -> EntityMapping | None:
    return session.get(EntityMapping, (system, kind, code))


def add_mapping(session: Session, system: str, kind: str, code: str) -> EntityMapping:
    row = EntityMapping(system_key=system, kind=kind, code=code)
    session.add(row)
    return row


def owner_of_external(session: Session, system: str, kind: str, external: str) -> str | None:
    """Our code to which the system's code ``external`` is mapped."""
    stmt = select(EntityMapping.code).where(
        EntityMapping.system_key == system,
        EntityMapping.kind == kind,
        EntityMapping.external_code == external,
    )
    return session.scalars(stmt).first()


def delete_mapping(session: Session, system: str, kind: str, code: str) -> None:
    session.execute(
        delete(EntityMapping).where(
            EntityMapping.system_key == system,
            EntityMapping.kind == kind,
            EntityMapping.code == code,
        )
    )


# ---- the unresolved-code queue ---------------------------------------------------------


def count_again(
    session: Session,
    *,
    system: str,
    kind: str,
    direction: str,
    item: Unresolved,
    source: str,
    now: datetime,
) -> bool:
    """Count an open entry again; whether there was one."""
    stmt = (
        update(UnresolvedCode)
        .where(
            UnresolvedCode.system_key == system,
            UnresolvedCode.kind == kind,
            UnresolvedCode.direction == direction,
            UnresolvedCode.code == item.code[:64],
            UnresolvedCode.status == "open",
        )
        .values(
            occurrences=UnresolvedCode.occurrences + item.count,
            last_source=source[:100],
            last_seen_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def add_unresolved(
    session: Session,
    *,
    system: str,
    kind: str,
    direction: str,
    item: Unresolved,
    source: str,
    now: datetime,
) -> bool:
    """Queue a new open entry; False if another one got there first (counted by the caller)."""
    try:
        with session.begin_nested():
            session.add(
                UnresolvedCode(
                    system_key=system,
                    kind=kind,
                    direction=direction,
                    code=item.code[:64],
                    name=item.name[:200],
                    suggestion=item.suggestion,
                    source=source[:100],
                    last_source=source[:100],
                    occurrences=item.count,
                    status="open",
                    first_seen_at=now,
                    last_seen_at=now,
                )
            )
    except IntegrityError:
        return False
    return True


def unresolved_list(
    session: Session,
    *,
    system: str | None,
    kind: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> list[UnresolvedCode]:
    """Queued codes, most often met first."""
    stmt = select(UnresolvedCode).order_by(UnresolvedCode.occurrences.desc(), UnresolvedCode.id)
    if system:
        stmt = stmt.where(UnresolvedCode.system_key == system)
    if kind:
        stmt = stmt.where(UnresolvedCode.kind == kind)
    if status:
        stmt = stmt.where(UnresolvedCode.status == status)
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def count_open(session: Session, *, source: str | None) -> int:
    """How many codes are still open (met in ``source``, if given)."""
    stmt = select(func.count()).select_from(UnresolvedCode).where(UnresolvedCode.status == "open")
    if source:
        stmt = stmt.where(
            or_(UnresolvedCode.source == source, UnresolvedCode.last_source == source)
        )
    return int(session.scalar(stmt) or 0)


def unresolved(session: Session, unresolved_id: int) -> UnresolvedCode | None:
    return session.get(UnresolvedCode, unresolved_id)


def open_answered_by(
    session: Session, system: str, kind: str, ours: str, theirs: str
) -> list[UnresolvedCode]:
    """The open entries a mapping of ``ours`` to ``theirs`` answers (either direction)."""
    stmt = select(UnresolvedCode).where(
        UnresolvedCode.system_key == system,
        UnresolvedCode.kind == kind,
        UnresolvedCode.status == "open",
        or_(
            and_(UnresolvedCode.direction == "out", UnresolvedCode.code == ours),
            and_(UnresolvedCode.direction == "in", UnresolvedCode.code == theirs),
        ),
    )
    return list(session.scalars(stmt))
