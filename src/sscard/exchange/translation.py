"""Code translation (数据翻译) as pure data: translators, the rules of a table, the CSV forms.

Design overview
===============

A *code set* (gender, ethnicity, document type ...) lists our internal codes and their
Chinese names. An *external system* (the province card system, the medical insurance
system ...) may carry a table for a set: the system's *field name* for it (``AAC004``,
``SEX``) and, for each of our codes, the system's code. A table is one to one: each of our
codes has at most one external code and each external code belongs to exactly one of our
codes, so it reads both ways. A system gives each set its own field name.

A :class:`Translator` holds every table of one system as dictionaries, built once from the
database; translating a value is a dictionary lookup, so a file of a million rows is
translated without a query per value. It carries the *revision* of the system's tables it
was built from; the service compares it with the stored revision to know when to rebuild.

Import files are checked here, against the current tables, before anything is written:
:func:`plan_code_sets` and :func:`plan_mappings` either return a plan with no rejected
rows, which the service then applies, or name every bad row with its line number.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sscard.errors import FieldProblem
from sscard.exchange.errors import CodeSetNotFound, CodeSetNotMapped, CodeUnmapped, FileUnreadable

Direction = Literal["out", "in"]
"""``out``: our code -> the external system's code; ``in``: theirs -> ours."""

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
FIELD_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
EXTERNAL_CODE_PATTERN = re.compile(r"^[^\s=+@]\S{0,31}$")
FORMULA_START = ("=", "+", "@", "\t", "\r")
"""Cells starting with these are read as formulas by spreadsheets; names may not."""

KEY_RULE = "应为 2-32 位小写字母、数字或下划线，以字母开头"
CODE_RULE = "应为 1-32 位字母、数字、下划线、点或连字符，以字母或数字开头"
FIELD_RULE = "应为 1-64 位字母、数字或下划线，不以数字开头"
EXTERNAL_CODE_RULE = "应为 1-32 个非空白字符，不以 =、+、@ 开头"

MAX_SHOWN_PROBLEMS = 20


# ---- rules of single values -----------------------------------------------------------


def key_problem(value: str) -> str | None:
    """Why ``value`` is not a code set or system key, or None."""
    return None if KEY_PATTERN.match(value) else KEY_RULE


def code_problem(value: str) -> str | None:
    """Why ``value`` is not one of our codes, or None."""
    return None if CODE_PATTERN.match(value) else CODE_RULE


def field_problem(value: str) -> str | None:
    """Why ``value`` is not an external field name, or None."""
    return None if FIELD_PATTERN.match(value) else FIELD_RULE


def external_code_problem(value: str) -> str | None:
    """Why ``value`` is not an external code, or None."""
    return None if EXTERNAL_CODE_PATTERN.match(value) else EXTERNAL_CODE_RULE


def name_problem(value: str, *, max_length: int) -> str | None:
    """Why ``value`` is not a name (of a code, a set or a system), or None."""
    if not value:
        return "请填写名称"
    if len(value) > max_length:
        return f"长度不能超过 {max_length} 个字符"
    if value.startswith(FORMULA_START) or any(ord(ch) < 32 for ch in value):
        return "不能含控制字符，也不能以 =、+、@ 开头"
    return None


def shown(value: str) -> str:
    """A value as quoted in a message: empty values and very long ones made visible."""
    if not value:
        return "（空值）"
    return value if len(value) <= 32 else value[:32] + "…"


# ---- the state of the tables ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetInfo:
    """One code set: its key, Chinese name, and our codes with their names."""

    key: str
    name: str
    codes: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class SystemTables:
    """Every table of one external system."""

    key: str
    name: str
    fields: Mapping[str, str]
    """Code set key -> the system's field name for it."""
    codes: Mapping[str, Mapping[str, str]]
    """Code set key -> our code -> the system's code."""


# ---- translating ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Table:
    """One system's table for one set, readable both ways."""

    system: str
    system_name: str
    code_set: str
    code_set_name: str
    external_field: str
    outward: Mapping[str, str]
    inward: Mapping[str, str]
    known: frozenset[str]
    """All our codes of the set, mapped or not (for clearer messages)."""

    def to_external(self, value: str) -> str:
        """The system's code for our ``value``."""
        try:
            return self.outward[value]
        except KeyError:
            raise self.unmapped(value, "out") from None

    def to_internal(self, value: str) -> str:
        """Our code for the system's ``value``."""
        try:
            return self.inward[value]
        except KeyError:
            raise self.unmapped(value, "in") from None

    def unmapped(self, value: str, direction: Direction) -> CodeUnmapped:
        """The error for a value that has no counterpart, naming system, set and value."""
        message = self.unmapped_reason(value, direction)
        return CodeUnmapped(message, fields=[FieldProblem("value", message)])

    def unmapped_reason(self, value: str, direction: Direction) -> str:
        set_name, system_name = self.code_set_name, self.system_name
        if direction == "in":
            return f"{system_name}的“{set_name}”代码 {shown(value)} 没有对应的本系统代码"
        if value not in self.known:
            return f"本系统的“{set_name}”没有代码 {shown(value)}，无法翻译为{system_name}的代码"
        return f"{system_name}的“{set_name}”没有与本系统代码 {shown(value)} 对应的代码"


class Translator:
    """Every table of one external system, loaded once; each lookup is a dict lookup.

    Build it with the service's ``translator(session, system=...)`` and keep it for a
    whole file. ``revision`` identifies the state of the tables it was built from.
    """

    __slots__ = ("_by_field", "_out", "_sets", "_tables", "revision", "system", "system_name")

    def __init__(
        self, tables: SystemTables, code_sets: Mapping[str, SetInfo], *, revision: str = ""
    ) -> None:
        self.system = tables.key
        self.system_name = tables.name
        self.revision = revision
        self._sets = dict(code_sets)
        self._tables: dict[str, Table] = {}
        for key, external_field in tables.fields.items():
            info = code_sets[key]
            outward = dict(tables.codes.get(key, {}))
            self._tables[key] = Table(
                system=tables.key,
                system_name=tables.name,
                code_set=key,
                code_set_name=info.name,
                external_field=external_field,
                outward=outward,
                inward={theirs: ours for ours, theirs in outward.items()},
                known=frozenset(info.codes),
            )
        self._out = {key: table.outward for key, table in self._tables.items()}
        self._by_field = {table.external_field: table for table in self._tables.values()}

    @property
    def code_sets(self) -> list[str]:
        """Keys of the sets this system has a table for."""
        return sorted(self._tables)

    def table(self, code_set: str) -> Table:
        """The system's table for ``code_set``: CodeSetNotFound or CodeSetNotMapped if none."""
        found = self._tables.get(code_set)
        if found is not None:
            return found
        info = self._sets.get(code_set)
        if info is None:
            raise CodeSetNotFound(f"代码集 {shown(code_set)} 不存在")
        raise CodeSetNotMapped(f"{self.system_name}没有“{info.name}”的代码对照表")

    def external_field(self, code_set: str) -> str:
        """The system's field name for ``code_set`` (``AAC004``, ``SEX``)."""
        return self.table(code_set).external_field

    def to_external(self, code_set: str, value: str) -> str:
        """The system's code for our ``value`` of ``code_set``."""
        try:
            return self._out[code_set][value]
        except KeyError:
            raise self.table(code_set).unmapped(value, "out") from None

    def to_internal(self, code_set: str, value: str) -> str:
        """Our code for the system's ``value`` of ``code_set``."""
        return self.table(code_set).to_internal(value)

    def translate(self, code_set: str, value: str, direction: Direction = "out") -> str:
        """One value, either way."""
        if direction == "out":
            return self.to_external(code_set, value)
        return self.to_internal(code_set, value)

    def translate_many(
        self, code_set: str, values: Iterable[str], direction: Direction = "out"
    ) -> list[str]:
        """Every value, in order; CodeUnmapped names every value that has no counterpart."""
        table = self.table(code_set)
        lookup = table.outward if direction == "out" else table.inward
        result: list[str] = []
        missing: dict[str, int] = {}
        for index, value in enumerate(values):
            found = lookup.get(value)
            if found is None:
                missing.setdefault(value, index)
                found = ""
            result.append(found)
        if missing:
            raise _many_unmapped(table, missing, direction)
        return result

    def to_external_record(self, values: Mapping[str, str]) -> dict[str, str]:
        """``{"gender": "1", ...}`` (code set -> our code) as ``{"AAC004": "1", ...}``."""
        return {
            self.table(code_set).external_field: self.to_external(code_set, value)
            for code_set, value in values.items()
        }

    def to_internal_record(self, row: Mapping[str, str]) -> dict[str, str]:
        """The coded fields of an external row (field -> their code) as code set -> our code.

        Fields the system has no table for (names, ID numbers ...) are left out.
        """
        return {
            table.code_set: table.to_internal(value)
            for name, value in row.items()
            if (table := self._by_field.get(name)) is not None
        }


def _many_unmapped(table: Table, missing: Mapping[str, int], direction: Direction) -> CodeUnmapped:
    problems = [
        FieldProblem(f"values[{index}]", table.unmapped_reason(value, direction))
        for value, index in list(missing.items())[:MAX_SHOWN_PROBLEMS]
    ]
    message = problems[0].reason
    if len(missing) > 1:
        message += f"（共 {len(missing)} 个不同的值无法翻译）"
    return CodeUnmapped(message, fields=problems)


# ---- CSV files ------------------------------------------------------------------------

CODE_SET_COLUMNS = ("code_set", "code", "name", "code_set_name")
CODE_SET_REQUIRED = ("code_set", "code", "name")
MAPPING_COLUMNS = ("system", "code_set", "external_field", "code", "external_code", "system_name")
MAPPING_REQUIRED = ("system", "code_set", "external_field", "code", "external_code")


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data row of a CSV file: its line number (the header is line 1) and cells."""

    line: int
    values: Mapping[str, str]
    extra: int = 0
    """How many cells the row has beyond the header's columns."""

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")


def decode(data: bytes) -> str:
    """The text of a file in UTF-8 (with or without BOM) or, failing that, GB18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError:
            continue
    raise FileUnreadable("文件编码无法识别，请保存为 UTF-8 或 GB18030 编码的 CSV")


def _header(cells: list[str], columns: Sequence[str], required: Sequence[str]) -> list[str]:
    names = [cell.strip().lower() for cell in cells]
    unknown = [n for n in names if n not in columns]
    if unknown:
        raise FileUnreadable(
            f"不认识的列：{'、'.join(shown(n) for n in unknown)}（可用的列：{'、'.join(columns)}）"
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise FileUnreadable(f"列重复：{'、'.join(repeated)}")
    missing = [c for c in required if c not in names]
    if missing:
        raise FileUnreadable(f"缺少列：{'、'.join(missing)}（第 1 行应为表头）")
    return names


def read_rows(data: bytes, *, columns: Sequence[str], required: Sequence[str]) -> list[CsvRow]:
    """Every non-blank data row of a CSV file whose first line names its columns."""
    reader = csv.reader(io.StringIO(decode(data), newline=""), strict=True)
    try:
        first = next(reader, None)
        if first is None:
            raise FileUnreadable("文件是空的")
        names = _header(first, columns, required)
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            values = {name: cell.strip() for name, cell in zip(names, cells, strict=False)}
            rows.append(CsvRow(reader.line_num, values, max(0, len(cells) - len(names))))
    except csv.Error as exc:
        raise FileUnreadable(f"第 {reader.line_num} 行不是有效的 CSV：{exc}") from exc
    if not rows:
        raise FileUnreadable("文件只有表头，没有数据行")
    return rows


def write_rows(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """A CSV file in UTF-8 with BOM and CRLF line ends, as Excel expects."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


# ---- checking an import against the current tables -------------------------------------


@dataclass(frozen=True, slots=True)
class Reject:
    """One problem of one row."""

    line: int
    column: str
    reason: str


def rejects_as_problems(rejects: Sequence[Reject]) -> list[FieldProblem]:
    return [FieldProblem(f"line {r.line}.{r.column}", r.reason) for r in rejects]


def rejects_message(rejects: Sequence[Reject]) -> str:
    """``导入被拒绝，未做任何更改：2 行有误。第 3 行 code：……；第 5 行 ……``"""
    lines = sorted({r.line for r in rejects})
    shown_rejects = sorted(rejects, key=lambda r: r.line)[:5]
    listed = "；".join(f"第 {r.line} 行 {r.column}：{r.reason}" for r in shown_rejects)
    more = " 等" if len(rejects) > len(shown_rejects) else ""
    return f"导入被拒绝，未做任何更改：{len(lines)} 行有误。{listed}{more}"


def _extra_cells(row: CsvRow) -> Reject | None:
    if not row.extra:
        return None
    width = len(row.values)
    return Reject(row.line, "#", f"这一行有 {width + row.extra} 个值，表头只有 {width} 列")


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
    extra = _extra_cells(row)
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
    extra = _extra_cells(row)
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
