"""Entity mappings and the unresolved-code queue: the use cases (see the package docstring).

Issuance reads the mappings a chunk of a batch file at a time (:func:`entity_codes_out`,
:func:`entity_codes_in`) and queues what it could not map (:func:`note_unresolved`); clerks
map, import and resolve. Services flush and never commit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.exchange.errors import (
    MappingConflict,
    MappingNotFound,
    SystemNotFound,
    UnresolvedCodeNotFound,
)
from sscard.exchange.mapping import repository, schemas
from sscard.exchange.mapping.models import EntityMapping, UnresolvedCode
from sscard.exchange.mapping.schemas import CODE, CODE_RULE, CSV_COLUMNS, KINDS, Direction
from sscard.kit import access
from sscard.kit.access import AccessRecord
from sscard.kit.context import Actor

EntityMappingIn = schemas.EntityMappingIn
EntityMappingOut = schemas.EntityMappingOut
MappingImportReport = schemas.MappingImportReport
ResolveIn = schemas.ResolveIn
Unresolved = schemas.Unresolved
UnresolvedOut = schemas.UnresolvedOut


def mapping_out(row: EntityMapping) -> EntityMappingOut:
    return EntityMappingOut(
        system=row.system_key,
        kind=row.kind,
        kind_name=KINDS.get(row.kind, row.kind),
        code=row.code,
        external_code=row.external_code,
        external_name=row.external_name,
        source=row.source,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def unresolved_out(row: UnresolvedCode) -> UnresolvedOut:
    return UnresolvedOut(
        id=row.id,
        system=row.system_key,
        kind=row.kind,
        kind_name=KINDS.get(row.kind, row.kind),
        direction=row.direction,
        code=row.code,
        name=row.name,
        suggestion=row.suggestion,
        source=row.source,
        last_source=row.last_source,
        occurrences=row.occurrences,
        status=row.status,
        resolved_code=row.resolved_code,
        resolved_by=row.resolved_by,
        note=row.note,
        first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at,
        resolved_at=row.resolved_at,
    )


# ---- checks ----------------------------------------------------------------------------


def _check_code(field: str, value: str) -> None:
    if not CODE.match(value):
        raise ValidationFailed([FieldProblem(field, CODE_RULE)])


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        reason = "应为 employer（单位）、community（街道/社区）或 card_type（卡类型）"
        raise ValidationFailed([FieldProblem("kind", reason)])


def _system_name(session: Session, key: str) -> str:
    found = repository.system(session, key)
    if found is None:
        raise SystemNotFound(f"外部系统 {key[:32]} 不存在")
    return found.name


def _record(session: Session, action: str, subject: str) -> None:
    access.record(
        session,
        AccessRecord(
            action=action,
            subject_type="entity_mapping",
            subject_id=subject[:64],
            subject_display=subject[:64],
        ),
    )


# ---- lookups ---------------------------------------------------------------------------


def entity_codes_out(
    session: Session, *, system: str, kind: str, codes: Iterable[str]
) -> dict[str, str]:
    """Our employer, community or card-type codes -> the system's (mapped ones only)."""
    return repository.to_external(session, system, kind, codes)


def entity_codes_in(
    session: Session, *, system: str, kind: str, codes: Iterable[str]
) -> dict[str, str]:
    """The system's employer, community or card-type codes -> ours (mapped ones only)."""
    return repository.to_internal(session, system, kind, codes)


# ---- the mapping table -----------------------------------------------------------------


def list_entity_mappings(
    session: Session,
    *,
    system: str | None = None,
    kind: str | None = None,
    code: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[EntityMappingOut]:
    """Employer, community and card-type mappings, by system, kind and code (ours or theirs)."""
    rows = repository.mappings(
        session, system=system, kind=kind, code=code, limit=limit, offset=offset
    )
    return [mapping_out(r) for r in rows]


def _set_mapping(
    session: Session, *, data: EntityMappingIn, actor: Actor, source: str
) -> EntityMappingOut:
    """Map our code to the system's (replacing its earlier counterpart); one to one."""
    _check_kind(data.kind)
    _check_code("code", data.code)
    _check_code("external_code", data.external_code)
    system_name = _system_name(session, data.system)
    owner = repository.owner_of_external(session, data.system, data.kind, data.external_code)
    if owner is not None and owner != data.code:
        raise MappingConflict(
            f"{system_name}的{KINDS[data.kind]}代码 {data.external_code} 已对应本系统代码 {owner}，"
            "一个外部代码只能对应一个本系统代码"
        )
    row = repository.mapping(session, data.system, data.kind, data.code)
    if row is None:
        row = repository.add_mapping(session, data.system, data.kind, data.code)
    row.external_code, row.external_name = data.external_code, data.external_name
    row.source, row.updated_by, row.updated_at = source[:100], actor.id[:64], utcnow()
    session.flush()
    _close_answered(session, data.system, data.kind, data.code, data.external_code, actor)
    _record(session, "exchange.entity_mapping.set", f"{data.system}/{data.kind}/{data.code}")
    return mapping_out(row)


def set_entity_mapping(
    session: Session, *, data: EntityMappingIn, actor: Actor
) -> EntityMappingOut:
    """Map one of our entities to a system's code (one to one), as a clerk does."""
    return _set_mapping(session, data=data, actor=actor, source=f"clerk:{actor.id}")


def delete_entity_mapping(session: Session, *, system: str, kind: str, code: str) -> None:
    """Remove one entity mapping."""
    if repository.mapping(session, system, kind, code) is None:
        raise MappingNotFound(
            f"没有 {system[:32]} 的{KINDS.get(kind, kind)}代码 {code[:64]} 的对照"
        )
    repository.delete_mapping(session, system, kind, code)
    session.flush()
    _record(session, "exchange.entity_mapping.delete", f"{system}/{kind}/{code}")


# ---- importing a file ------------------------------------------------------------------


def import_entity_mappings(
    session: Session, *, data: bytes, actor: Actor, source: str
) -> MappingImportReport:
    """Set mappings from CSV (system, kind, code, external_code[, external_name]): all or none."""
    rows = _read_csv(data)
    problems: list[FieldProblem] = []
    seen_ours: dict[tuple[str, str, str], int] = {}
    seen_theirs: dict[tuple[str, str, str], int] = {}
    for line, row in rows:
        problems += _csv_row_problems(session, line, row, seen_ours, seen_theirs)
    if problems:
        raise ValidationFailed(problems[:20], f"对照文件有 {len(problems)} 处错误，未做任何修改")
    report = MappingImportReport(rows=len(rows), created=0, updated=0, unchanged=0)
    # Clear the external codes that move to another of our codes before setting them.
    for _, row in rows:
        _release(session, row)
    for _, row in rows:
        _apply_row(session, row, actor, source, report)
    return report


def _read_csv(data: bytes) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(_decode(data), newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in CSV_COLUMNS[:4] if c not in header]
    if missing:
        raise ValidationFailed([FieldProblem("file", f"缺少列 {'、'.join(missing)}")])
    reader.fieldnames = header
    rows = [
        (index + 2, {k: (v or "").strip() for k, v in row.items() if k})
        for index, row in enumerate(reader)
    ]
    if not rows:
        raise ValidationFailed([FieldProblem("file", "文件没有数据行")])
    return rows


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed([FieldProblem("file", "文件编码应为 UTF-8 或 GB18030")])


def _csv_row_problems(
    session: Session,
    line: int,
    row: Mapping[str, str],
    seen_ours: dict[tuple[str, str, str], int],
    seen_theirs: dict[tuple[str, str, str], int],
) -> list[FieldProblem]:
    found: list[FieldProblem] = []
    system, kind = row.get("system", ""), row.get("kind", "")
    code, external = row.get("code", ""), row.get("external_code", "")
    if repository.system(session, system) is None:
        found.append(FieldProblem(f"line {line}.system", f"外部系统 {system[:32]} 不存在"))
    if kind not in KINDS:
        found.append(FieldProblem(f"line {line}.kind", "应为 employer、community 或 card_type"))
    for name, value in (("code", code), ("external_code", external)):
        if not CODE.match(value):
            found.append(FieldProblem(f"line {line}.{name}", CODE_RULE))
    for seen, key in ((seen_ours, (system, kind, code)), (seen_theirs, (system, kind, external))):
        if key in seen:
            found.append(FieldProblem(f"line {line}", f"与第 {seen[key]} 行重复"))
        seen[key] = line
    return found


def _release(session: Session, row: Mapping[str, str]) -> None:
    system, kind = row["system"], row["kind"]
    owner = repository.owner_of_external(session, system, kind, row["external_code"])
    if owner is not None and owner != row["code"]:
        repository.delete_mapping(session, system, kind, owner)


def _apply_row(
    session: Session,
    row: Mapping[str, str],
    actor: Actor,
    source: str,
    report: MappingImportReport,
) -> None:
    system, kind, code = row["system"], row["kind"], row["code"]
    existing = repository.mapping(session, system, kind, code)
    name = row.get("external_name", "")[:200]
    wanted = (row["external_code"], name)
    if existing is not None and (existing.external_code, existing.external_name) == wanted:
        report.unchanged += 1
        return
    data = EntityMappingIn(
        system=system, kind=kind, code=code, external_code=row["external_code"], external_name=name
    )
    _set_mapping(session, data=data, actor=actor, source=source)
    if existing is None:
        report.created += 1
    else:
        report.updated += 1


# ---- the unresolved-code queue ---------------------------------------------------------


def note_unresolved(
    session: Session,
    *,
    system: str,
    kind: str,
    direction: Direction,
    found: Iterable[Unresolved],
    source: str,
) -> int:
    """Queue codes met without a counterpart (or count them again); how many were new."""
    new = 0
    now = utcnow()
    for item in found:
        if _count_again(session, system, kind, direction, item, source, now):
            continue
        if repository.add_unresolved(
            session,
            system=system,
            kind=kind,
            direction=direction,
            item=item,
            source=source,
            now=now,
        ):
            new += 1
        else:
            _count_again(session, system, kind, direction, item, source, now)
    return new


def _count_again(
    session: Session,
    system: str,
    kind: str,
    direction: str,
    item: Unresolved,
    source: str,
    now: datetime,
) -> bool:
    return repository.count_again(
        session, system=system, kind=kind, direction=direction, item=item, source=source, now=now
    )


def list_unresolved(
    session: Session,
    *,
    system: str | None = None,
    kind: str | None = None,
    status: str | None = "open",
    limit: int = 200,
    offset: int = 0,
) -> list[UnresolvedOut]:
    """Codes met without a counterpart, most often met first."""
    rows = repository.unresolved_list(
        session, system=system, kind=kind, status=status, limit=limit, offset=offset
    )
    return [unresolved_out(r) for r in rows]


def count_unresolved(session: Session, *, source: str | None = None) -> int:
    """How many queued codes are still open (of one batch or file, if given)."""
    return repository.count_open(session, source=source)


def resolve_unresolved(
    session: Session, *, unresolved_id: int, data: ResolveIn, actor: Actor
) -> UnresolvedOut:
    """Answer a queued code (the mapping is written) or ignore it, with a note."""
    row = repository.unresolved(session, unresolved_id)
    if row is None:
        raise UnresolvedCodeNotFound(f"待对照代码 {unresolved_id} 不存在")
    if row.status != "open":
        raise MappingConflict(f"待对照代码 {unresolved_id} 已处理（{row.status}）")
    if data.ignore:
        _close(row, "ignored", None, actor, data.note)
        session.flush()
        return unresolved_out(row)
    counterpart = data.code or row.suggestion
    if not counterpart:
        raise ValidationFailed([FieldProblem("code", "请填写对应的代码（该条没有建议值）")])
    ours, theirs = (row.code, counterpart) if row.direction == "out" else (counterpart, row.code)
    mapping = EntityMappingIn(
        system=row.system_key,
        kind=row.kind,
        code=ours,
        external_code=theirs,
        external_name=row.name if row.direction == "in" else "",
    )
    _set_mapping(session, data=mapping, actor=actor, source=f"queue:{row.id}")
    if row.status == "open":
        _close(row, "resolved", counterpart, actor, data.note)
    session.flush()
    return unresolved_out(row)


def _close(
    row: UnresolvedCode, status: str, counterpart: str | None, actor: Actor, note: str
) -> None:
    row.status, row.resolved_code, row.resolved_by = status, counterpart, actor.id[:64]
    row.note, row.resolved_at = note or None, utcnow()


def _close_answered(
    session: Session, system: str, kind: str, ours: str, theirs: str, actor: Actor
) -> None:
    """Close the open queue entries a new mapping answers (either direction)."""
    for row in repository.open_answered_by(session, system, kind, ours, theirs):
        _close(row, "resolved", theirs if row.direction == "out" else ours, actor, "")
