"""Entity mappings between systems (seed 004: 单位、街道/社区、卡类型) and unresolved codes.

Design overview
===============

The province card system (省卡管) and the city medical-insurance system code employers,
streets/communities and card types their own way, and their codes do not match ours.
Unlike the small code sets of :mod:`sscard.exchange.translation` (gender, ethnicity),
these are *entities*: thousands of employers, hundreds of communities, appearing and
changing every week. So they are kept as rows, not as cached translators:

- ``exchange_entity_mapping``: for one system and kind, our code and the system's code,
  one to one (our code is the primary key; the system's code is unique). Our code of an
  employer is its unified social credit code (统一社会信用代码), of a community its
  community code, of a card type the card generation (``2``, ``3``).
- ``exchange_unresolved_code``: every code an export or import met without a counterpart,
  with the batch or file it came from, how often it was met, and (for employers) a likely
  counterpart found by credit code. A clerk resolves it by naming the counterpart, which
  writes the mapping and closes every open entry the mapping answers; or ignores it.

Lookups are by the codes of one chunk of a file (``IN`` queries), so memory stays bounded
however large the tables grow. Services flush and never commit.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.errors import FieldProblem, NotFound, ValidationFailed
from sscard.exchange.errors import MappingConflict, MappingNotFound, SystemNotFound
from sscard.exchange.models import EntityMapping, ExternalSystem, UnresolvedCode
from sscard.kit import access
from sscard.kit.access import AccessRecord
from sscard.kit.context import Actor

Kind = Literal["employer", "community", "card_type"]
KINDS: dict[str, str] = {"employer": "单位", "community": "街道/社区", "card_type": "卡类型"}
Direction = Literal["out", "in"]
CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,63}$")
CODE_RULE = "应为 1-64 位字母、数字、下划线、点或连字符，以字母或数字开头"
IN_CHUNK = 500
CSV_COLUMNS = ("system", "kind", "code", "external_code", "external_name")


class UnresolvedCodeNotFound(NotFound):
    code = "unresolved_code_not_found"


# ---- input and output ------------------------------------------------------------------

CodeText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
NoteText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class EntityMappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: CodeText
    kind: Kind
    code: CodeText
    external_code: CodeText
    external_name: NoteText = ""


class ResolveIn(BaseModel):
    """The counterpart of a queued code: ours for an inward code, theirs for an outward one."""

    model_config = ConfigDict(extra="forbid")

    code: CodeText | None = None
    """Leave out to take the suggestion."""
    note: NoteText = ""
    ignore: bool = False


class EntityMappingOut(BaseModel):
    system: str
    kind: str
    kind_name: str
    code: str
    external_code: str
    external_name: str
    source: str
    updated_by: str
    updated_at: datetime


class UnresolvedOut(BaseModel):
    id: int
    system: str
    kind: str
    kind_name: str
    direction: str
    code: str
    name: str
    suggestion: str | None
    source: str
    last_source: str
    occurrences: int
    status: str
    resolved_code: str | None
    resolved_by: str | None
    note: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None


class MappingImportReport(BaseModel):
    rows: int
    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A code met without a counterpart, with what is known of it."""

    code: str
    name: str = ""
    suggestion: str | None = None
    count: int = 1


def mapping_out(row: EntityMapping) -> EntityMappingOut:
    return EntityMappingOut(
        system=row.system_key, kind=row.kind, kind_name=KINDS.get(row.kind, row.kind),
        code=row.code, external_code=row.external_code, external_name=row.external_name,
        source=row.source, updated_by=row.updated_by, updated_at=row.updated_at,
    )  # fmt: skip


def unresolved_out(row: UnresolvedCode) -> UnresolvedOut:
    return UnresolvedOut(
        id=row.id, system=row.system_key, kind=row.kind, kind_name=KINDS.get(row.kind, row.kind),
        direction=row.direction, code=row.code, name=row.name, suggestion=row.suggestion,
        source=row.source, last_source=row.last_source, occurrences=row.occurrences,
        status=row.status, resolved_code=row.resolved_code, resolved_by=row.resolved_by,
        note=row.note, first_seen_at=row.first_seen_at, last_seen_at=row.last_seen_at,
        resolved_at=row.resolved_at,
    )  # fmt: skip


# ---- checks ----------------------------------------------------------------------------


def _check_code(field: str, value: str) -> None:
    if not CODE.match(value):
        raise ValidationFailed([FieldProblem(field, CODE_RULE)])


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValidationFailed(
            [
                FieldProblem(
                    "kind", "应为 employer（单位）、community（街道/社区）或 card_type（卡类型）"
                )
            ]
        )


def _system(session: Session, key: str) -> ExternalSystem:
    found = session.get(ExternalSystem, key)
    if found is None:
        raise SystemNotFound(f"外部系统 {key[:32]} 不存在")
    return found


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


# ---- lookups ---------------------------------------------------------------------------


def to_external(
    session: Session, *, system: str, kind: str, codes: Iterable[str]
) -> dict[str, str]:
    """Our code -> the system's code, for those of ``codes`` that are mapped."""
    wanted = sorted({c for c in codes if c})
    found: dict[str, str] = {}
    for part in _chunks(wanted):
        stmt = select(EntityMapping.code, EntityMapping.external_code).where(
            EntityMapping.system_key == system, EntityMapping.kind == kind,
            EntityMapping.code.in_(part),
        )  # fmt: skip
        found.update({row[0]: row[1] for row in session.execute(stmt)})
    return found


def to_internal(
    session: Session, *, system: str, kind: str, codes: Iterable[str]
) -> dict[str, str]:
    """The system's code -> ours, for those of ``codes`` that are mapped."""
    wanted = sorted({c for c in codes if c})
    found: dict[str, str] = {}
    for part in _chunks(wanted):
        stmt = select(EntityMapping.external_code, EntityMapping.code).where(
            EntityMapping.system_key == system, EntityMapping.kind == kind,
            EntityMapping.external_code.in_(part),
        )  # fmt: skip
        found.update({row[0]: row[1] for row in session.execute(stmt)})
    return found


# ---- the mapping table -----------------------------------------------------------------


def list_mappings(
    session: Session, *, system: str | None = None, kind: str | None = None,
    code: str | None = None, limit: int = 200, offset: int = 0,
) -> list[EntityMappingOut]:  # fmt: skip
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
    return [mapping_out(r) for r in session.scalars(stmt.limit(limit).offset(offset))]


def _owner_of_external(session: Session, system: str, kind: str, external: str) -> str | None:
    stmt = select(EntityMapping.code).where(
        EntityMapping.system_key == system, EntityMapping.kind == kind,
        EntityMapping.external_code == external,
    )  # fmt: skip
    return session.scalars(stmt).first()


def set_mapping(
    session: Session, *, data: EntityMappingIn, actor: Actor, source: str = "api"
) -> EntityMappingOut:
    """Map our code to the system's (replacing its earlier counterpart); one to one."""
    _check_kind(data.kind)
    _check_code("code", data.code)
    _check_code("external_code", data.external_code)
    system = _system(session, data.system)
    owner = _owner_of_external(session, data.system, data.kind, data.external_code)
    if owner is not None and owner != data.code:
        raise MappingConflict(
            f"{system.name}的{KINDS[data.kind]}代码 {data.external_code} 已对应本系统代码 {owner}，"
            "一个外部代码只能对应一个本系统代码"
        )
    row = session.get(EntityMapping, (data.system, data.kind, data.code))
    if row is None:
        row = EntityMapping(system_key=data.system, kind=data.kind, code=data.code)
        session.add(row)
    row.external_code, row.external_name = data.external_code, data.external_name
    row.source, row.updated_by, row.updated_at = source[:100], actor.id[:64], utcnow()
    session.flush()
    _close_answered(session, data.system, data.kind, data.code, data.external_code, actor)
    _record(session, "exchange.entity_mapping.set", f"{data.system}/{data.kind}/{data.code}")
    return mapping_out(row)


def delete_mapping(session: Session, *, system: str, kind: str, code: str) -> None:
    """Remove one mapping."""
    row = session.get(EntityMapping, (system, kind, code))
    if row is None:
        raise MappingNotFound(
            f"没有 {system[:32]} 的{KINDS.get(kind, kind)}代码 {code[:64]} 的对照"
        )
    session.delete(row)
    session.flush()
    _record(session, "exchange.entity_mapping.delete", f"{system}/{kind}/{code}")


def import_mappings(
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
        report = _apply_row(session, row, actor, source, report)
    return report


def _read_csv(data: bytes) -> list[tuple[int, dict[str, str]]]:
    text = _decode(data)
    reader = csv.DictReader(io.StringIO(text, newline=""))
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
    session: Session, line: int, row: Mapping[str, str],
    seen_ours: dict[tuple[str, str, str], int], seen_theirs: dict[tuple[str, str, str], int],
) -> list[FieldProblem]:  # fmt: skip
    found: list[FieldProblem] = []
    system, kind = row.get("system", ""), row.get("kind", "")
    code, external = row.get("code", ""), row.get("external_code", "")
    if session.get(ExternalSystem, system) is None:
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
    owner = _owner_of_external(session, row["system"], row["kind"], row["external_code"])
    if owner is not None and owner != row["code"]:
        session.execute(
            delete(EntityMapping).where(
                EntityMapping.system_key == row["system"], EntityMapping.kind == row["kind"],
                EntityMapping.code == owner,
            )
        )  # fmt: skip


def _apply_row(
    session: Session, row: Mapping[str, str], actor: Actor, source: str,
    report: MappingImportReport,
) -> MappingImportReport:  # fmt: skip
    key = (row["system"], row["kind"], row["code"])
    existing = session.get(EntityMapping, key)
    name = row.get("external_name", "")[:200]
    if existing is not None and (existing.external_code, existing.external_name) == (
        row["external_code"], name,
    ):  # fmt: skip
        report.unchanged += 1
        return report
    data = EntityMappingIn(
        system=key[0], kind=key[1], code=key[2],
        external_code=row["external_code"], external_name=name,
    )  # fmt: skip
    set_mapping(session, data=data, actor=actor, source=source)
    if existing is None:
        report.created += 1
    else:
        report.updated += 1
    return report


# ---- the unresolved-code queue ---------------------------------------------------------


def note_unresolved(
    session: Session, *, system: str, kind: str, direction: Direction,
    found: Iterable[Unresolved], source: str,
) -> int:  # fmt: skip
    """Queue codes met without a counterpart (or count them again); how many were new."""
    new = 0
    now = utcnow()
    for item in found:
        if _count_again(session, system, kind, direction, item, source, now):
            continue
        try:
            with session.begin_nested():
                session.add(
                    UnresolvedCode(
                        system_key=system, kind=kind, direction=direction, code=item.code[:64],
                        name=item.name[:200], suggestion=item.suggestion, source=source[:100],
                        last_source=source[:100], occurrences=item.count, status="open",
                        first_seen_at=now, last_seen_at=now,
                    )
                )  # fmt: skip
            new += 1
        except IntegrityError:
            _count_again(session, system, kind, direction, item, source, now)
    return new


def _count_again(
    session: Session, system: str, kind: str, direction: str, item: Unresolved, source: str,
    now: datetime,
) -> bool:  # fmt: skip
    stmt = (
        update(UnresolvedCode)
        .where(
            UnresolvedCode.system_key == system, UnresolvedCode.kind == kind,
            UnresolvedCode.direction == direction, UnresolvedCode.code == item.code[:64],
            UnresolvedCode.status == "open",
        )
        .values(
            occurrences=UnresolvedCode.occurrences + item.count, last_source=source[:100],
            last_seen_at=now,
        )
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def list_unresolved(
    session: Session, *, system: str | None = None, kind: str | None = None,
    status: str | None = "open", limit: int = 200, offset: int = 0,
) -> list[UnresolvedOut]:  # fmt: skip
    """Queued codes, most often met first."""
    stmt = select(UnresolvedCode).order_by(UnresolvedCode.occurrences.desc(), UnresolvedCode.id)
    if system:
        stmt = stmt.where(UnresolvedCode.system_key == system)
    if kind:
        stmt = stmt.where(UnresolvedCode.kind == kind)
    if status:
        stmt = stmt.where(UnresolvedCode.status == status)
    return [unresolved_out(r) for r in session.scalars(stmt.limit(limit).offset(offset))]


def count_unresolved(session: Session, *, source: str | None = None) -> int:
    """How many codes are still open (met in ``source``, if given)."""
    stmt = select(func.count()).select_from(UnresolvedCode).where(UnresolvedCode.status == "open")
    if source:
        stmt = stmt.where(
            or_(UnresolvedCode.source == source, UnresolvedCode.last_source == source)
        )
    return int(session.scalar(stmt) or 0)


def _get_unresolved(session: Session, unresolved_id: int) -> UnresolvedCode:
    row = session.get(UnresolvedCode, unresolved_id)
    if row is None:
        raise UnresolvedCodeNotFound(f"待对照代码 {unresolved_id} 不存在")
    return row


def resolve(
    session: Session, *, unresolved_id: int, data: ResolveIn, actor: Actor
) -> UnresolvedOut:
    """Answer a queued code: write the mapping it asks for, or ignore it, with a note."""
    row = _get_unresolved(session, unresolved_id)
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
        system=row.system_key, kind=row.kind,
        code=ours, external_code=theirs, external_name=row.name if row.direction == "in" else "",
    )  # fmt: skip
    set_mapping(session, data=mapping, actor=actor, source=f"queue:{row.id}")
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
    stmt = select(UnresolvedCode).where(
        UnresolvedCode.system_key == system, UnresolvedCode.kind == kind,
        UnresolvedCode.status == "open",
        or_(
            and_(UnresolvedCode.direction == "out", UnresolvedCode.code == ours),
            and_(UnresolvedCode.direction == "in", UnresolvedCode.code == theirs),
        ),
    )  # fmt: skip
    for row in session.scalars(stmt):
        _close(row, "resolved", theirs if row.direction == "out" else ours, actor, "")


def _record(session: Session, action: str, subject: str) -> None:
    access.record(
        session,
        AccessRecord(
            action=action, subject_type="entity_mapping", subject_id=subject[:64],
            subject_display=subject[:64],
        ),
    )  # fmt: skip
