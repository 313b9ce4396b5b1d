"""Every query of code translation (code sets, systems, field names, mappings)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from sscard.exchange.translation.models import Code, CodeSet, ExternalField, ExternalSystem, Mapping
from sscard.exchange.translation.translator import SetInfo, SystemTables


def new_revision() -> str:
    return secrets.token_hex(16)


# ---- code sets ------------------------------------------------------------------------


def code_set(session: Session, key: str) -> CodeSet | None:
    return session.get(CodeSet, key)


def code_sets_with_size(session: Session) -> list[tuple[CodeSet, int]]:
    size = (
        select(Code.code_set_key, func.count().label("size")).group_by(Code.code_set_key).subquery()
    )
    stmt = (
        select(CodeSet, func.coalesce(size.c.size, 0))
        .outerjoin(size, size.c.code_set_key == CodeSet.key)
        .order_by(CodeSet.key)
    )
    return [(row[0], int(row[1])) for row in session.execute(stmt)]


def codes_of(session: Session, key: str) -> list[Code]:
    stmt = select(Code).where(Code.code_set_key == key).order_by(Code.code)
    return list(session.scalars(stmt))


def code(session: Session, key: str, value: str) -> Code | None:
    return session.get(Code, (key, value))


def set_rows(session: Session) -> list[tuple[str, str]]:
    """(key, name) of every set."""
    stmt = select(CodeSet.key, CodeSet.name).order_by(CodeSet.key)
    return [(r[0], r[1]) for r in session.execute(stmt)]


def code_rows(session: Session) -> list[tuple[str, str, str]]:
    """(set key, code, name) of every code, in order."""
    stmt = select(Code.code_set_key, Code.code, Code.name).order_by(Code.code_set_key, Code.code)
    return [(r[0], r[1], r[2]) for r in session.execute(stmt)]


def add_code_sets(session: Session, sets: Iterable[tuple[str, str]]) -> None:
    session.add_all(CodeSet(key=key, name=name) for key, name in sets)


def add_codes(session: Session, codes: Iterable[tuple[str, str, str]]) -> None:
    session.add_all(Code(code_set_key=k, code=c, name=n) for k, c, n in codes)


def rename_code_set(session: Session, key: str, name: str) -> None:
    session.execute(update(CodeSet).where(CodeSet.key == key).values(name=name))


def rename_code(session: Session, key: str, value: str, name: str) -> None:
    session.execute(
        update(Code).where(Code.code_set_key == key, Code.code == value).values(name=name)
    )


# ---- systems and their tables ---------------------------------------------------------


def system(session: Session, key: str) -> ExternalSystem | None:
    return session.get(ExternalSystem, key)


def systems(session: Session) -> list[ExternalSystem]:
    return list(session.scalars(select(ExternalSystem).order_by(ExternalSystem.key)))


def revision(session: Session, key: str) -> str | None:
    stmt = select(ExternalSystem.revision).where(ExternalSystem.key == key)
    return session.scalar(stmt)


def touch(session: Session, keys: Iterable[str] | None = None) -> None:
    """Give the systems (all when ``keys`` is None) a new revision."""
    stmt = update(ExternalSystem)
    if keys is not None:
        stmt = stmt.where(ExternalSystem.key.in_(sorted(set(keys))))
    session.execute(stmt.values(revision=new_revision()))


def add_systems(session: Session, systems: Iterable[tuple[str, str]]) -> None:
    session.add_all(
        ExternalSystem(key=key, name=name, revision=new_revision()) for key, name in systems
    )


def rename_system(session: Session, key: str, name: str) -> None:
    session.execute(update(ExternalSystem).where(ExternalSystem.key == key).values(name=name))


def field_rows(session: Session, system: str | None = None) -> list[tuple[str, str, str]]:
    """(system, set key, field name) of every table, optionally of one system."""
    stmt = select(
        ExternalField.system_key, ExternalField.code_set_key, ExternalField.external_field
    ).order_by(ExternalField.system_key, ExternalField.code_set_key)
    if system is not None:
        stmt = stmt.where(ExternalField.system_key == system)
    return [(r[0], r[1], r[2]) for r in session.execute(stmt)]


def external_field(session: Session, system: str, key: str) -> ExternalField | None:
    return session.get(ExternalField, (system, key))


def field_owner(session: Session, system: str, name: str) -> str | None:
    """The set to which ``system`` gives the field name ``name``."""
    stmt = select(ExternalField.code_set_key).where(
        ExternalField.system_key == system, ExternalField.external_field == name
    )
    return session.scalar(stmt)


def add_fields(session: Session, fields: Iterable[tuple[str, str, str]]) -> None:
    session.add_all(
        ExternalField(system_key=s, code_set_key=k, external_field=f) for s, k, f in fields
    )


def rename_field(session: Session, system: str, key: str, name: str) -> None:
    session.execute(
        update(ExternalField)
        .where(ExternalField.system_key == system, ExternalField.code_set_key == key)
        .values(external_field=name)
    )


def mapping_counts(session: Session) -> dict[tuple[str, str], int]:
    stmt = select(Mapping.system_key, Mapping.code_set_key, func.count()).group_by(
        Mapping.system_key, Mapping.code_set_key
    )
    return {(r[0], r[1]): int(r[2]) for r in session.execute(stmt)}


def mapping_rows(
    session: Session, *, system: str | None = None, key: str | None = None
) -> list[tuple[str, str, str, str]]:
    """(system, set key, code, external code), in order."""
    stmt = select(
        Mapping.system_key, Mapping.code_set_key, Mapping.code, Mapping.external_code
    ).order_by(Mapping.system_key, Mapping.code_set_key, Mapping.code)
    if system is not None:
        stmt = stmt.where(Mapping.system_key == system)
    if key is not None:
        stmt = stmt.where(Mapping.code_set_key == key)
    return [(r[0], r[1], r[2], r[3]) for r in session.execute(stmt)]


def mapping(session: Session, system: str, key: str, value: str) -> Mapping | None:
    return session.get(Mapping, (system, key, value))


def mapping_by_external(
    session: Session, system: str, key: str, external_code: str
) -> Mapping | None:
    stmt = select(Mapping).where(
        Mapping.system_key == system,
        Mapping.code_set_key == key,
        Mapping.external_code == external_code,
    )
    return session.scalars(stmt).one_or_none()


def add_mappings(session: Session, rows: Iterable[tuple[str, str, str, str]]) -> None:
    session.add_all(
        Mapping(system_key=s, code_set_key=k, code=c, external_code=e) for s, k, c, e in rows
    )


def delete_mappings(session: Session, rows: Iterable[tuple[str, str, str]]) -> None:
    for system_key, key, value in rows:
        session.execute(
            delete(Mapping).where(
                Mapping.system_key == system_key,
                Mapping.code_set_key == key,
                Mapping.code == value,
            )
        )


# ---- the state of the tables, as the translator and the import plans read it -----------


def set_infos(session: Session) -> dict[str, SetInfo]:
    """Every code set with its codes."""
    codes: dict[str, dict[str, str]] = {}
    for key, value, name in code_rows(session):
        codes.setdefault(key, {})[value] = name
    return {key: SetInfo(key, name, codes.get(key, {})) for key, name in set_rows(session)}


def system_tables(session: Session, system: str | None = None) -> dict[str, SystemTables]:
    """Every table of every system (or of one), by system key."""
    fields: dict[str, dict[str, str]] = {}
    for system_key, key, name in field_rows(session, system):
        fields.setdefault(system_key, {})[key] = name
    codes: dict[str, dict[str, dict[str, str]]] = {}
    for system_key, key, ours, theirs in mapping_rows(session, system=system):
        codes.setdefault(system_key, {}).setdefault(key, {})[ours] = theirs
    found = [s for s in systems(session) if system is None or s.key == system]
    return {
        s.key: SystemTables(s.key, s.name, fields.get(s.key, {}), codes.get(s.key, {}))
        for s in found
    }
