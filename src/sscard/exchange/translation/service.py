"""Code translation use cases: code sets, external systems, mappings, files, translating.

Other components translate through :func:`translate` (one value), :func:`translate_many`
(a column of a file) or, for whole files, a :class:`~.translator.Translator` from
:func:`translator`, kept for the file and consulted without a query per value. Translators
are cached per process (at most ``MAX_CACHED_TRANSLATORS`` systems) and rebuilt when the
system's stored revision changes, which every change to its tables (or to the code sets)
does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import Any

from sqlalchemy.orm import Session

from sscard.errors import FieldProblem, ValidationFailed
from sscard.exchange.errors import (
    CodeNotFound,
    CodeSetNotFound,
    ImportRejected,
    MappingConflict,
    MappingNotFound,
    SystemNotFound,
)
from sscard.exchange.translation import csvfiles, plans, repository, rules
from sscard.exchange.translation.csvfiles import (
    CODE_SET_COLUMNS,
    CODE_SET_REQUIRED,
    MAPPING_COLUMNS,
    MAPPING_REQUIRED,
    Reject,
)
from sscard.exchange.translation.plans import CodeSetPlan, MappingPlan
from sscard.exchange.translation.rules import Direction
from sscard.exchange.translation.schemas import (
    CodeOut,
    CodeSetDetail,
    CodeSetOut,
    ImportReport,
    LoadReport,
    MappingOut,
    SystemOut,
    SystemTableOut,
    TranslationOut,
)
from sscard.exchange.translation.translator import SetInfo, SystemTables, Translator
from sscard.kit import access
from sscard.kit.access import AccessRecord
from sscard.kit.cache import TTLCache

MAX_CACHED_TRANSLATORS = 64
"""Systems whose translator is kept per process (a platform talks to a handful)."""
_translators: TTLCache[str, Translator] = TTLCache(max_entries=MAX_CACHED_TRANSLATORS, ttl=None)
"""Translators by system; each is used only while its revision is the stored one."""


# ---- helpers ----------------------------------------------------------------------------


def _check(field: str, reason: str | None) -> None:
    if reason:
        raise ValidationFailed([FieldProblem(field, reason)])


def _record(
    session: Session, action: str, subject_type: str, subject_id: str, **detail: Any
) -> None:
    access.record(
        session,
        AccessRecord(
            action=action,
            subject_type=subject_type,
            subject_id=subject_id[:64],
            subject_display=subject_id[:64],
            detail=detail,
        ),
    )


# ---- code sets ------------------------------------------------------------------------


def _code_set(session: Session, key: str) -> SetInfo:
    found = repository.code_set(session, key)
    if found is None:
        raise CodeSetNotFound(f"代码集 {rules.shown(key)} 不存在")
    codes = {c.code: c.name for c in repository.codes_of(session, key)}
    return SetInfo(found.key, found.name, codes)


def list_code_sets(session: Session) -> list[CodeSetOut]:
    """Every code set with its size."""
    return [
        CodeSetOut(key=s.key, name=s.name, size=size)
        for s, size in repository.code_sets_with_size(session)
    ]


def get_code_set(session: Session, *, key: str) -> CodeSetDetail:
    """A code set with its codes, or CodeSetNotFound."""
    info = _code_set(session, key)
    codes = [CodeOut(code=c, name=n) for c, n in info.codes.items()]
    return CodeSetDetail(key=info.key, name=info.name, codes=codes)


def upsert_code_set(session: Session, *, key: str, name: str) -> CodeSetOut:
    """Create a code set, or rename it."""
    _check("key", rules.key_problem(key))
    _check("name", rules.name_problem(name, max_length=64))
    found = repository.code_set(session, key)
    if found is None:
        repository.add_code_sets(session, [(key, name)])
    elif found.name != name:
        found.name = name
    else:
        return CodeSetOut(key=key, name=name, size=len(repository.codes_of(session, key)))
    session.flush()
    repository.touch(session)
    _record(session, "exchange.code_set.upsert", "code_set", key)
    return CodeSetOut(key=key, name=name, size=len(repository.codes_of(session, key)))


def upsert_code(session: Session, *, code_set: str, code: str, name: str) -> CodeOut:
    """Add one of our codes to a set, or rename it."""
    _code_set(session, code_set)
    _check("code", rules.code_problem(code))
    _check("name", rules.name_problem(name, max_length=100))
    found = repository.code(session, code_set, code)
    if found is not None and found.name == name:
        return CodeOut(code=code, name=name)
    if found is None:
        repository.add_codes(session, [(code_set, code, name)])
    else:
        found.name = name
    session.flush()
    repository.touch(session)
    _record(session, "exchange.code.upsert", "code_set", code_set, code=code)
    return CodeOut(code=code, name=name)


# ---- systems and mappings -------------------------------------------------------------


def _system(session: Session, key: str) -> SystemTables:
    found = repository.system_tables(session, key).get(key)
    if found is None:
        raise SystemNotFound(f"外部系统 {rules.shown(key)} 不存在")
    return found


def _system_out(
    tables: SystemTables, sets: Mapping[str, str], counts: Mapping[tuple[str, str], int]
) -> SystemOut:
    return SystemOut(
        key=tables.key,
        name=tables.name,
        tables=[
            SystemTableOut(
                code_set=key,
                code_set_name=sets.get(key, key),
                external_field=name,
                mappings=counts.get((tables.key, key), 0),
            )
            for key, name in sorted(tables.fields.items())
        ],
    )


def list_systems(session: Session) -> list[SystemOut]:
    """Every external system with its tables (set, field name, number of codes)."""
    sets = dict(repository.set_rows(session))
    counts = repository.mapping_counts(session)
    return [_system_out(t, sets, counts) for t in repository.system_tables(session).values()]


def get_system(session: Session, *, key: str) -> SystemOut:
    """One external system with its tables, or SystemNotFound."""
    tables = _system(session, key)
    counts = repository.mapping_counts(session)
    return _system_out(tables, dict(repository.set_rows(session)), counts)


def upsert_system(session: Session, *, key: str, name: str) -> SystemOut:
    """Register an external system, or rename it."""
    _check("key", rules.key_problem(key))
    _check("name", rules.name_problem(name, max_length=64))
    found = repository.system(session, key)
    if found is None:
        repository.add_systems(session, [(key, name)])
    elif found.name != name:
        found.name = name
        repository.touch(session, [key])
    else:
        return get_system(session, key=key)
    session.flush()
    _record(session, "exchange.system.upsert", "exchange_system", key)
    return get_system(session, key=key)


def mappings(session: Session, *, system: str, code_set: str | None = None) -> list[MappingOut]:
    """The system's codes for ours, of one set or of all."""
    tables = _system(session, system)
    sets = repository.set_infos(session)
    if code_set is not None and code_set not in sets:
        raise CodeSetNotFound(f"代码集 {rules.shown(code_set)} 不存在")
    return [
        MappingOut(
            system=system,
            code_set=key,
            external_field=tables.fields[key],
            code=ours,
            name=sets[key].codes[ours],
            external_code=theirs,
        )
        for _, key, ours, theirs in repository.mapping_rows(session, system=system, key=code_set)
    ]


def _table_field(
    session: Session, tables: SystemTables, info: SetInfo, external_field: str | None
) -> str:
    """The field name of the table, created or renamed as asked."""
    existing = tables.fields.get(info.key)
    if external_field is None or external_field == existing:
        if existing is None:
            reason = f"{tables.name}还没有“{info.name}”的字段名，请同时填写"
            raise ValidationFailed([FieldProblem("external_field", reason)])
        return existing
    _check("external_field", rules.field_problem(external_field))
    owner = repository.field_owner(session, tables.key, external_field)
    if owner is not None:
        raise MappingConflict(f"{tables.name}的字段名 {external_field} 已用于代码集 {owner}")
    if existing is None:
        repository.add_fields(session, [(tables.key, info.key, external_field)])
    else:
        repository.rename_field(session, tables.key, info.key, external_field)
    session.flush()
    return external_field


def _check_free(tables: SystemTables, info: SetInfo, code: str, external_code: str) -> None:
    for ours, theirs in tables.codes.get(info.key, {}).items():
        if theirs == external_code and ours != code:
            raise MappingConflict(
                f"{tables.name}的“{info.name}”代码 {external_code} 已对应本系统代码 {ours}，"
                "一个外部代码只能对应一个本系统代码",
                fields=[FieldProblem("external_code", f"已对应本系统代码 {ours}")],
            )


def set_mapping(
    session: Session,
    *,
    system: str,
    code_set: str,
    code: str,
    external_code: str,
    external_field: str | None = None,
) -> MappingOut:
    """Map one of our codes to the system's code (and name the system's field for the set)."""
    tables = _system(session, system)
    info = _code_set(session, code_set)
    if code not in info.codes:
        raise CodeNotFound(f"“{info.name}”没有代码 {rules.shown(code)}")
    _check("external_code", rules.external_code_problem(external_code))
    _check_free(tables, info, code, external_code)
    field_name = _table_field(session, tables, info, external_field)
    found = repository.mapping(session, system, code_set, code)
    if found is None:
        repository.add_mappings(session, [(system, code_set, code, external_code)])
    else:
        found.external_code = external_code
    session.flush()
    repository.touch(session, [system])
    _record(session, "exchange.mapping.set", "exchange_system", system, code_set=code_set)
    return MappingOut(
        system=system,
        code_set=code_set,
        external_field=field_name,
        code=code,
        name=info.codes[code],
        external_code=external_code,
    )


def delete_mapping(session: Session, *, system: str, code_set: str, code: str) -> None:
    """Remove the system's code for one of ours; that code then cannot be sent to it."""
    tables = _system(session, system)
    info = _code_set(session, code_set)
    if code not in tables.codes.get(code_set, {}):
        raise MappingNotFound(
            f"{tables.name}的“{info.name}”没有本系统代码 {rules.shown(code)} 的对照"
        )
    repository.delete_mappings(session, [(system, code_set, code)])
    repository.touch(session, [system])
    _record(session, "exchange.mapping.delete", "exchange_system", system, code_set=code_set)


# ---- translating ----------------------------------------------------------------------


def translator(session: Session, *, system: str) -> Translator:
    """Every table of ``system``, for translating a whole file without a query per value."""
    current = repository.revision(session, system)
    if current is None:
        raise SystemNotFound(f"外部系统 {rules.shown(system)} 不存在")
    cached = _translators.get(system)
    if cached is not None and cached.revision == current:
        return cached
    built = Translator(_system(session, system), repository.set_infos(session), revision=current)
    _translators.put(system, built)
    return built


def translate(
    session: Session, *, system: str, code_set: str, value: str, direction: Direction = "out"
) -> str:
    """One value: ``out`` ours -> the system's, ``in`` the system's -> ours."""
    return translator(session, system=system).translate(code_set, value, direction)


def translate_many(
    session: Session,
    *,
    system: str,
    code_set: str,
    values: Iterable[str],
    direction: Direction = "out",
) -> list[str]:
    """Many values of one set, in order; CodeUnmapped names every value without a match."""
    return translator(session, system=system).translate_many(code_set, values, direction)


def external_field(session: Session, *, system: str, code_set: str) -> str:
    """The system's field name for the set (``AAC004`` for gender at the province)."""
    return translator(session, system=system).external_field(code_set)


def translation_of(
    session: Session, *, system: str, code_set: str, value: str, direction: Direction = "out"
) -> TranslationOut:
    """One value translated, with the field name it travels under."""
    found = translator(session, system=system)
    return TranslationOut(
        system=system,
        code_set=code_set,
        external_field=found.external_field(code_set),
        direction=direction,
        value=value,
        result=found.translate(code_set, value, direction),
    )


# ---- files ----------------------------------------------------------------------------


def _refuse(rejects: Sequence[Reject]) -> None:
    if rejects:
        raise ImportRejected(
            csvfiles.rejects_as_problems(rejects), csvfiles.rejects_message(rejects)
        )


def _apply_code_sets(session: Session, plan: CodeSetPlan) -> None:
    repository.add_code_sets(session, plan.new_sets.items())
    for key, name in plan.renamed_sets.items():
        repository.rename_code_set(session, key, name)
    session.flush()
    repository.add_codes(session, plan.new_codes)
    for key, code, name in plan.renamed_codes:
        repository.rename_code(session, key, code, name)
    session.flush()
    repository.touch(session)


def import_code_sets(session: Session, *, data: bytes, dry_run: bool = False) -> ImportReport:
    """Add and rename codes from a CSV file (code_set, code, name[, code_set_name]): all or none."""
    rows = csvfiles.read_rows(data, columns=CODE_SET_COLUMNS, required=CODE_SET_REQUIRED)
    current = repository.set_infos(session)
    plan = plans.plan_code_sets(rows, current)
    _refuse(plan.rejects)
    if plan.changed and not dry_run:
        _apply_code_sets(session, plan)
        _record(session, "exchange.code_sets.import", "code_set", "*", rows=plan.rows)
    return plan.report(plan.notes(current), dry_run=dry_run)


def _apply_fields(session: Session, plan: MappingPlan) -> None:
    repository.add_fields(session, [(s, k, f) for (s, k), f in plan.new_fields.items()])
    # Two sets may swap field names: move the renamed ones aside first.
    for system, key in plan.renamed_fields:
        repository.rename_field(session, system, key, f"~{key}")
    session.flush()
    for (system, key), name in plan.renamed_fields.items():
        repository.rename_field(session, system, key, name)
    session.flush()


def _apply_mappings(session: Session, plan: MappingPlan) -> None:
    repository.add_systems(session, plan.new_systems.items())
    for key, name in plan.renamed_systems.items():
        repository.rename_system(session, key, name)
    session.flush()
    _apply_fields(session, plan)
    # Codes may swap external codes: remove the changed rows before adding them back.
    repository.delete_mappings(session, [(s, k, c) for s, k, c, _ in plan.changed_mappings])
    repository.add_mappings(session, [*plan.new_mappings, *plan.changed_mappings])
    session.flush()
    touched = {s for s, *_ in (*plan.new_mappings, *plan.changed_mappings)}
    touched |= {s for s, _ in (*plan.new_fields, *plan.renamed_fields)}
    repository.touch(session, touched | set(plan.renamed_systems))


def import_mappings(session: Session, *, data: bytes, dry_run: bool = False) -> ImportReport:
    """Set mappings from a CSV file (system, code_set, external_field, code, external_code
    [, system_name]): every row checked against the tables as they will be; all or none."""
    rows = csvfiles.read_rows(data, columns=MAPPING_COLUMNS, required=MAPPING_REQUIRED)
    systems = repository.system_tables(session)
    plan = plans.plan_mappings(rows, code_sets=repository.set_infos(session), systems=systems)
    _refuse(plan.rejects)
    if plan.changed and not dry_run:
        _apply_mappings(session, plan)
        _record(session, "exchange.mappings.import", "exchange_system", "*", rows=plan.rows)
    return plan.report(plan.notes(systems), dry_run=dry_run)


def export_code_sets(session: Session) -> bytes:
    """Every code of every set as CSV (UTF-8 with BOM, as Excel opens it)."""
    names = dict(repository.set_rows(session))
    rows = [(key, code, name, names[key]) for key, code, name in repository.code_rows(session)]
    return csvfiles.write_rows(CODE_SET_COLUMNS, rows)


def export_mappings(session: Session, *, system: str | None = None) -> bytes:
    """Every mapping (of one system, or of all) as CSV (UTF-8 with BOM)."""
    tables = repository.system_tables(session, system)
    if system is not None and system not in tables:
        raise SystemNotFound(f"外部系统 {rules.shown(system)} 不存在")
    rows = [
        (t.key, key, t.fields[key], ours, theirs, t.name)
        for t in tables.values()
        for key, codes in sorted(t.codes.items())
        for ours, theirs in sorted(codes.items())
    ]
    return csvfiles.write_rows(MAPPING_COLUMNS, rows)


def default_code_sets() -> bytes:
    """The code sets shipped with sscard (``seeds/code_sets.csv``)."""
    return resources.files("sscard.exchange").joinpath("seeds", "code_sets.csv").read_bytes()


def default_mappings() -> bytes:
    """The translation tables shipped with sscard (``seeds/mappings.csv``)."""
    return resources.files("sscard.exchange").joinpath("seeds", "mappings.csv").read_bytes()


def load_defaults(session: Session) -> LoadReport:
    """Add the shipped code sets and tables that are missing; local changes are kept."""
    rows = csvfiles.read_rows(
        default_code_sets(), columns=CODE_SET_COLUMNS, required=CODE_SET_REQUIRED
    )
    current = repository.set_infos(session)
    sets_plan = plans.plan_code_sets(rows, current, keep_existing=True)
    _refuse(sets_plan.rejects)
    if sets_plan.changed:
        _apply_code_sets(session, sets_plan)
    rows = csvfiles.read_rows(
        default_mappings(), columns=MAPPING_COLUMNS, required=MAPPING_REQUIRED
    )
    systems = repository.system_tables(session)
    plan = plans.plan_mappings(
        rows, code_sets=repository.set_infos(session), systems=systems, keep_existing=True
    )
    _refuse(plan.rejects)
    if plan.changed:
        _apply_mappings(session, plan)
    if sets_plan.changed or plan.changed:
        _record(session, "exchange.load_defaults", "exchange_system", "*")
    return LoadReport(
        code_sets=sets_plan.report(sets_plan.notes(current), dry_run=False),
        mappings=plan.report(plan.notes(systems), dry_run=False),
        kept=sets_plan.skipped + plan.skipped,
    )
