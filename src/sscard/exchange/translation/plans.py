"""Checking an import file against the current tables before anything is written.

:func:`plan_code_sets` and :func:`plan_mappings` either return a plan with no rejected
rows, which the service then applies, or name every bad row with its line number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sscard.exchange.translation.csvfiles import CsvRow, Reject, extra_cells
from sscard.exchange.translation.rules import (
    code_problem,
    external_code_problem,
    field_problem,
    key_problem,
    name_problem,
    shown,
)
from sscard.exchange.translation.schemas import ImportReport
from sscard.exchange.translation.translator import SetInfo, SystemTables


@dataclass
class CodeSetPlan:
    """What a code set import would change."""

    rows: int = 0
    new_sets: dict[str, str] = field(default_factory=dict)
    renamed_sets: dict[str, str] = field(default_factory=dict)
    new_codes: list[tuple[str, str, str]] = field(default_factory=list)
    renamed_codes: list[tuple[str, str, str]] = field(default_factory=list)
    unchanged: int = 0
    skipped: int = 0
    rejects: list[Reject] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.new_sets or self.renamed_sets or self.new_codes or self.renamed_codes)

    def report(self, notes: list[str], *, dry_run: bool) -> ImportReport:
        """What the import changed (or, with ``dry_run``, would change)."""
        return ImportReport(
            rows=self.rows,
            created=len(self.new_codes),
            updated=len(self.renamed_codes),
            unchanged=self.unchanged,
            notes=notes,
            dry_run=dry_run,
        )

    def notes(self, current: Mapping[str, SetInfo]) -> list[str]:
        made = [f"新建代码集 {k}（{n}）" for k, n in self.new_sets.items()]
        return made + [
            f"代码集 {k} 更名：{current[k].name} → {n}" for k, n in self.renamed_sets.items()
        ]


def _code_row_rejects(row: CsvRow) -> list[Reject]:
    checks = [
        ("code_set", key_problem(row["code_set"])),
        ("code", code_problem(row["code"])),
        ("name", name_problem(row["name"], max_length=100)),
    ]
    if row["code_set_name"]:
        checks.append(("code_set_name", name_problem(row["code_set_name"], max_length=64)))
    found = [Reject(row.line, column, reason) for column, reason in checks if reason]
    extra = extra_cells(row)
    return found + ([extra] if extra else [])


def plan_code_sets(
    rows: Sequence[CsvRow], current: Mapping[str, SetInfo], *, keep_existing: bool = False
) -> CodeSetPlan:
    """Check code set rows against the current sets; ``keep_existing`` only adds."""
    plan = CodeSetPlan(rows=len(rows))
    seen: dict[tuple[str, str], int] = {}
    set_names: dict[str, tuple[str, int]] = {}
    for row in rows:
        problems = _code_row_rejects(row)
        key, code = row["code_set"], row["code"]
        if not problems and (key, code) in seen:
            problems.append(Reject(row.line, "code", f"与第 {seen[key, code]} 行重复"))
        title = row["code_set_name"]
        if not problems and title and key in set_names and set_names[key][0] != title:
            other = set_names[key][1]
            problems.append(Reject(row.line, "code_set_name", f"与第 {other} 行的代码集名称不一致"))
        if problems:
            plan.rejects.extend(problems)
            continue
        seen[key, code] = row.line
        if title:
            set_names.setdefault(key, (title, row.line))
        _plan_code(plan, current, key, code, row["name"], keep_existing)
    _plan_set_names(plan, current, {k: v[0] for k, v in set_names.items()}, seen, keep_existing)
    return plan


def _plan_code(
    plan: CodeSetPlan,
    current: Mapping[str, SetInfo],
    key: str,
    code: str,
    name: str,
    keep_existing: bool,
) -> None:
    existing = current[key].codes.get(code) if key in current else None
    if existing is None:
        plan.new_codes.append((key, code, name))
    elif existing == name:
        plan.unchanged += 1
    elif keep_existing:
        plan.skipped += 1
    else:
        plan.renamed_codes.append((key, code, name))


def _plan_set_names(
    plan: CodeSetPlan,
    current: Mapping[str, SetInfo],
    titles: Mapping[str, str],
    seen: Mapping[tuple[str, str], int],
    keep_existing: bool,
) -> None:
    for key in sorted({k for k, _ in seen}):
        if key not in current:
            plan.new_sets[key] = titles.get(key, key)
        elif key in titles and titles[key] != current[key].name and not keep_existing:
            plan.renamed_sets[key] = titles[key]


@dataclass
class MappingPlan:
    """What a mapping import would change."""

    rows: int = 0
    new_systems: dict[str, str] = field(default_factory=dict)
    renamed_systems: dict[str, str] = field(default_factory=dict)
    new_fields: dict[tuple[str, str], str] = field(default_factory=dict)
    renamed_fields: dict[tuple[str, str], str] = field(default_factory=dict)
    new_mappings: list[tuple[str, str, str, str]] = field(default_factory=list)
    changed_mappings: list[tuple[str, str, str, str]] = field(default_factory=list)
    unchanged: int = 0
    skipped: int = 0
    rejects: list[Reject] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.new_systems
            or self.renamed_systems
            or self.new_fields
            or self.renamed_fields
            or self.new_mappings
            or self.changed_mappings
        )

    def report(self, notes: list[str], *, dry_run: bool) -> ImportReport:
        """What the import changed (or, with ``dry_run``, would change)."""
        return ImportReport(
            rows=self.rows,
            created=len(self.new_mappings),
            updated=len(self.changed_mappings),
            unchanged=self.unchanged,
            notes=notes,
            dry_run=dry_run,
        )

    def notes(self, systems: Mapping[str, SystemTables]) -> list[str]:
        notes = [f"新建外部系统 {k}（{n}）" for k, n in self.new_systems.items()]
        notes += [
            f"外部系统 {k} 更名：{systems[k].name} → {n}" for k, n in self.renamed_systems.items()
        ]
        notes += [f"{s} 的 {c} 字段名：{f}" for (s, c), f in self.new_fields.items()]
        return notes + [
            f"{s} 的 {c} 字段名改为：{systems[s].fields[c]} → {f}"
            for (s, c), f in self.renamed_fields.items()
        ]


@dataclass(frozen=True, slots=True)
class _MappingRow:
    line: int
    system: str
    code_set: str
    external_field: str
    code: str
    external_code: str


def _leading_zero_hint(code: str, codes: Mapping[str, str]) -> str:
    if code.isdigit():
        for candidate in codes:
            if candidate.isdigit() and candidate != code and candidate.lstrip("0") == code:
                return f"（是否被表格软件去掉了前导零？应为 {candidate}）"
    return ""


def _mapping_cell_rejects(row: CsvRow, code_sets: Mapping[str, SetInfo]) -> list[Reject]:
    checks = [
        ("system", key_problem(row["system"])),
        ("external_field", field_problem(row["external_field"])),
        ("external_code", external_code_problem(row["external_code"])),
    ]
    if row["system_name"]:
        checks.append(("system_name", name_problem(row["system_name"], max_length=64)))
    info = code_sets.get(row["code_set"])
    if info is None:
        checks.append(("code_set", f"代码集 {shown(row['code_set'])} 不存在"))
    elif row["code"] not in info.codes:
        hint = _leading_zero_hint(row["code"], info.codes)
        checks.append(("code", f"“{info.name}”没有代码 {shown(row['code'])}{hint}"))
    found = [Reject(row.line, column, reason) for column, reason in checks if reason]
    extra = extra_cells(row)
    return found + ([extra] if extra else [])


class _MappingChecker:
    """Row-by-row consistency within the file: duplicates, one field and name per table."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str, str], int] = {}
        self.fields: dict[tuple[str, str], tuple[str, int]] = {}
        self.names: dict[str, tuple[str, int]] = {}

    def rejects(self, row: CsvRow) -> list[Reject]:
        system, code_set = row["system"], row["code_set"]
        first = self.seen.get((system, code_set, row["code"]))
        if first is not None:
            return [Reject(row.line, "code", f"与第 {first} 行重复")]
        given = self.fields.get((system, code_set))
        if given is not None and given[0] != row["external_field"]:
            return [
                Reject(
                    row.line,
                    "external_field",
                    f"同一系统同一代码集只有一个字段名，第 {given[1]} 行是 {given[0]}",
                )
            ]
        name = self.names.get(system)
        if name is not None and row["system_name"] and name[0] != row["system_name"]:
            return [Reject(row.line, "system_name", f"与第 {name[1]} 行的系统名称不一致")]
        return []

    def accept(self, row: CsvRow) -> _MappingRow:
        system, code_set = row["system"], row["code_set"]
        self.seen[system, code_set, row["code"]] = row.line
        self.fields.setdefault((system, code_set), (row["external_field"], row.line))
        if row["system_name"]:
            self.names.setdefault(system, (row["system_name"], row.line))
        return _MappingRow(
            row.line,
            system,
            code_set,
            row["external_field"],
            row["code"],
            row["external_code"],
        )


def plan_mappings(
    rows: Sequence[CsvRow],
    *,
    code_sets: Mapping[str, SetInfo],
    systems: Mapping[str, SystemTables],
    keep_existing: bool = False,
) -> MappingPlan:
    """Check mapping rows against the sets and tables; ``keep_existing`` only adds.

    With ``keep_existing`` (loading defaults into tables a deployment may have edited),
    rows that would change or contradict what is there are skipped instead of rejected.
    """
    plan = MappingPlan(rows=len(rows))
    checker = _MappingChecker()
    accepted: list[_MappingRow] = []
    for row in rows:
        problems = _mapping_cell_rejects(row, code_sets) or checker.rejects(row)
        if problems:
            plan.rejects.extend(problems)
        else:
            accepted.append(checker.accept(row))
    names = {k: v[0] for k, v in checker.names.items()}
    if keep_existing:
        accepted = _only_additions(accepted, systems, plan)
        names = {k: v for k, v in names.items() if k not in systems}
    _plan_systems(plan, systems, names, accepted)
    fields = _final_fields(accepted, systems)
    accepted = _check_fields(plan, accepted, fields, systems, code_sets, keep_existing)
    accepted = _check_one_to_one(plan, accepted, systems, code_sets, keep_existing)
    _plan_rows(plan, accepted, fields, systems)
    return plan


def _only_additions(
    accepted: list[_MappingRow], systems: Mapping[str, SystemTables], plan: MappingPlan
) -> list[_MappingRow]:
    kept = []
    for row in accepted:
        tables = systems.get(row.system)
        existing_field = tables.fields.get(row.code_set) if tables else None
        if tables is not None and row.code in tables.codes.get(row.code_set, {}):
            if tables.codes[row.code_set][row.code] == row.external_code:
                plan.unchanged += 1
            else:
                plan.skipped += 1
            continue
        if existing_field is not None and existing_field != row.external_field:
            row = _MappingRow(
                row.line, row.system, row.code_set, existing_field, row.code, row.external_code
            )
        kept.append(row)
    return kept


def _plan_systems(
    plan: MappingPlan,
    systems: Mapping[str, SystemTables],
    names: Mapping[str, str],
    accepted: Sequence[_MappingRow],
) -> None:
    for key in sorted({r.system for r in accepted} | set(names)):
        if key not in systems:
            plan.new_systems[key] = names.get(key, key)
        elif key in names and names[key] != systems[key].name:
            plan.renamed_systems[key] = names[key]


def _final_fields(
    accepted: Sequence[_MappingRow], systems: Mapping[str, SystemTables]
) -> dict[tuple[str, str], str]:
    """(system, code set) -> field name, once the import is applied."""
    final = {(s, c): f for s, tables in systems.items() for c, f in tables.fields.items()}
    for row in accepted:
        final[row.system, row.code_set] = row.external_field
    return final


def _check_fields(
    plan: MappingPlan,
    accepted: list[_MappingRow],
    fields: Mapping[tuple[str, str], str],
    systems: Mapping[str, SystemTables],
    code_sets: Mapping[str, SetInfo],
    keep_existing: bool,
) -> list[_MappingRow]:
    """A system gives each set its own field name."""
    owners: dict[tuple[str, str], list[str]] = {}
    for (system, code_set), name in fields.items():
        owners.setdefault((system, name), []).append(code_set)
    kept = []
    for row in accepted:
        sets = owners[row.system, row.external_field]
        if len(sets) == 1:
            kept.append(row)
            continue
        if keep_existing:
            plan.skipped += 1
            continue
        others = "、".join(f"“{code_sets[c].name}”" for c in sets if c != row.code_set)
        reason = f"字段名 {row.external_field} 也用于{others}，同一系统每个代码集的字段名应不同"
        plan.rejects.append(Reject(row.line, "external_field", reason))
    return kept


def _external_owners(
    accepted: Sequence[_MappingRow], systems: Mapping[str, SystemTables]
) -> dict[tuple[str, str, str], list[tuple[str, int]]]:
    """(system, set, external code) -> [(our code, line or 0 if stored)], once applied."""
    final: dict[tuple[str, str], dict[str, tuple[str, int]]] = {}
    for system, tables in systems.items():
        for code_set, stored in tables.codes.items():
            final[system, code_set] = {ours: (theirs, 0) for ours, theirs in stored.items()}
    for row in accepted:
        final.setdefault((row.system, row.code_set), {})[row.code] = (row.external_code, row.line)
    owners: dict[tuple[str, str, str], list[tuple[str, int]]] = {}
    for (system, code_set), table in final.items():
        for ours, (theirs, line) in table.items():
            owners.setdefault((system, code_set, theirs), []).append((ours, line))
    return owners


def _check_one_to_one(
    plan: MappingPlan,
    accepted: list[_MappingRow],
    systems: Mapping[str, SystemTables],
    code_sets: Mapping[str, SetInfo],
    keep_existing: bool,
) -> list[_MappingRow]:
    """Each external code of a table belongs to one of our codes, once the import is applied."""
    owners = _external_owners(accepted, systems)
    kept = []
    for row in accepted:
        others = [
            o for o in owners[row.system, row.code_set, row.external_code] if o[1] != row.line
        ]
        if not others:
            kept.append(row)
        elif keep_existing:
            plan.skipped += 1
        else:
            plan.rejects.append(_taken(row, others[0], code_sets))
    return kept


def _taken(row: _MappingRow, other: tuple[str, int], code_sets: Mapping[str, SetInfo]) -> Reject:
    ours, line = other
    where = f"第 {line} 行" if line else "现有对照"
    reason = (
        f"外部代码 {row.external_code} 已对应“{code_sets[row.code_set].name}”的"
        f"本系统代码 {ours}（{where}），一个外部代码只能对应一个本系统代码"
    )
    return Reject(row.line, "external_code", reason)


def _plan_rows(
    plan: MappingPlan,
    accepted: Sequence[_MappingRow],
    fields: Mapping[tuple[str, str], str],
    systems: Mapping[str, SystemTables],
) -> None:
    touched = {(r.system, r.code_set) for r in accepted}
    for system, code_set in sorted(touched):
        tables = systems.get(system)
        existing = tables.fields.get(code_set) if tables else None
        wanted = fields[system, code_set]
        if existing is None:
            plan.new_fields[system, code_set] = wanted
        elif existing != wanted:
            plan.renamed_fields[system, code_set] = wanted
    for row in accepted:
        tables = systems.get(row.system)
        before = tables.codes.get(row.code_set, {}).get(row.code) if tables else None
        entry = (row.system, row.code_set, row.code, row.external_code)
        if before is None:
            plan.new_mappings.append(entry)
        elif before != row.external_code:
            plan.changed_mappings.append(entry)
        else:
            plan.unchanged += 1
