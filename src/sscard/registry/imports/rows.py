"""The columns of a person import file, and how one row becomes a checked record (pure).

A column is headed by our English field name, by the 人社 indicator name where one is in
use, or by its usual Chinese title (see :data:`COLUMNS`; matching ignores case). Cells are
read leniently where a clerk's spreadsheet varies (dates as ``1985-03-15``, ``19850315``,
``1985/3/15`` or a date cell; gender, ethnicity and document type as code or Chinese name)
and then checked by exactly the rules of the counter and the API (:func:`records.problems`),
plus the employer (a registered credit code) and the importing operator's region.

An import never erases: an optional column that is absent, or a cell left empty, keeps what
is stored for a person already registered (see :func:`merged`) and takes the default
(document type 01, ethnicity 01, nationality CHN, or nothing) for a new one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sscard.errors import FieldProblem
from sscard.kit.masking import mask_text
from sscard.registry import codes, identifiers, records
from sscard.registry.imports.tabular import Cell, Header, header_key
from sscard.registry.records import EnrolmentRecord, PersonRecord


@dataclass(frozen=True, slots=True)
class Column:
    """One column of an import file: the field it fills and the headers it may carry."""

    field: str
    title: str
    names: tuple[str, ...]
    """Accepted headers: the field name, the 人社 indicator (when there is one), Chinese."""
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("id_number", "社会保障号码", ("id_number", "AAC002", "社会保障号码", "公民身份号码", "身份证号码", "证件号码"), required=True),  # noqa: E501
    Column("document_type", "证件类型", ("document_type", "AAC058", "证件类型")),
    Column("name", "姓名", ("name", "AAC003", "姓名"), required=True),
    Column("gender", "性别", ("gender", "AAC004", "性别"), required=True),
    Column("ethnicity", "民族", ("ethnicity", "AAC005", "民族")),
    Column("birth_date", "出生日期", ("birth_date", "AAC006", "出生日期"), required=True),
    Column("nationality", "国籍", ("nationality", "AAC161", "国籍")),
    Column("phone", "手机号码", ("phone", "AAE005", "手机号码", "联系电话")),
    Column("address", "地址", ("address", "AAE006", "地址", "居住地址")),
    Column("household_region_code", "户籍地区划代码", ("household_region_code", "户籍地区划代码"), required=True),  # noqa: E501
    Column("residence_region_code", "居住地区划代码", ("residence_region_code", "AAB301", "居住地区划代码"), required=True),  # noqa: E501
    Column("employer_credit_code", "单位统一社会信用代码", ("employer_credit_code", "AAB003", "统一社会信用代码", "单位统一社会信用代码")),  # noqa: E501
    Column("community_code", "社区代码", ("community_code", "社区代码")),
    Column("enrolments", "参保信息", ("enrolments", "参保信息")),
)  # fmt: skip
"""Every column an import file may have, in the order of the documented template."""

BY_FIELD: Mapping[str, Column] = {c.field: c for c in COLUMNS}
ALIASES: Mapping[str, str] = {header_key(n): c.field for c in COLUMNS for n in c.names}
REQUIRED: tuple[str, ...] = tuple(c.field for c in COLUMNS if c.required)
IGNORED = frozenset(header_key(n) for n in ("序号", "备注", "no", "seq", "remark", "remarks"))
"""Columns a spreadsheet often has that carry nothing to import: skipped without a word."""
DEFAULTS: Mapping[str, str] = {"document_type": "01", "ethnicity": "01", "nationality": "CHN"}
MERGED_FIELDS = (
    "document_type",
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "nationality",
    "phone",
    "address",
    "household_region_code",
    "residence_region_code",
    "employer_id",
    "community_code",
    "enrolments",
)
"""Fields a row may change on a registered person (only where the row gives a value)."""

_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]0{1,2}:00(?::00)?)?"
)
_ITEM_SPLIT = re.compile(r"[;；]")
_PART_SPLIT = re.compile(r"[:：]")


def describe(field: str) -> str:
    """How a column may be headed, for a message: ``出生日期（birth_date / AAC006）``."""
    column = BY_FIELD[field]
    return f"{column.title}（{' / '.join(n for n in column.names if n.isascii())}）"


def _names_to_codes(code_set: codes.CodeSet, *, suffix: str = "") -> Mapping[str, str]:
    found = {name: code for code, name in code_set.entries.items()}
    if suffix:
        found |= {n.removesuffix(suffix): c for n, c in found.items() if n.endswith(suffix)}
    return found


_BY_NAME: Mapping[str, Mapping[str, str]] = {
    "gender": _names_to_codes(codes.GENDER),
    "ethnicity": _names_to_codes(codes.ETHNICITY, suffix="族"),
    "document_type": _names_to_codes(codes.DOCUMENT_TYPE),
    "insurance_status": _names_to_codes(codes.INSURANCE_STATUS),
}


@dataclass(frozen=True, slots=True)
class RowRules:
    """What every row of one import is checked against."""

    header: Header
    today: date
    region_prefix: str = ""
    """The importing operator's region ('' = everywhere)."""
    employer: tuple[str, int] | None = None
    """(credit code, id) of the employer the whole file is imported for."""


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """A row read and checked: the record, the fields it gave a value for, its problems."""

    id_number: str
    """Normalised, possibly invalid; masked wherever it is shown."""
    record: PersonRecord
    """Built even from a bad row (an unreadable birth date reads as today)."""
    given: frozenset[str]
    problems: tuple[FieldProblem, ...]


def text(cell: Cell) -> str:
    """A cell as text: numbers without a trailing ``.0``, dates as ``YYYY-MM-DD``."""
    if type(cell) is str:
        return cell.strip()
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell).strip()


def parse_date(cell: Cell) -> date | None:
    """A date from a date cell, ``YYYY-MM-DD``, ``YYYY/M/D``, ``YYYY年M月D日`` or ``YYYYMMDD``.

    None for an empty cell; ValueError for anything else.
    """
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    value = text(cell)
    if not value:
        return None
    if len(value) == 8 and value.isdigit():
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    match = _DATE.fullmatch(value)
    if match is None:
        raise ValueError(value)
    return date(int(match[1]), int(match[2]), int(match[3]))


def _code(field: str, value: str) -> str:
    """A code given as code or Chinese name, as its code (unknown values pass unchanged)."""
    found = _BY_NAME.get(field, {}).get(value)
    if found is not None:
        return found
    if field == "document_type" and len(value) == 1 and value.isdigit():
        return value.zfill(2)
    return value


class _Reader:
    """Reads the cells of one row by field, collecting what could not be read."""

    def __init__(self, cells: Sequence[Cell], header: Header) -> None:
        self.cells = cells
        self.columns = header.columns
        width = len(cells)
        self.values = {f: text(cells[i]) for f, i in header.columns.items() if i < width}
        self.given = {f for f, value in self.values.items() if value}
        self.problems: list[FieldProblem] = []

    def cell(self, field: str) -> Cell:
        index = self.columns.get(field)
        if index is None or index >= len(self.cells):
            return None
        return self.cells[index]

    def text(self, field: str) -> str:
        return self.values.get(field, "")

    def optional(self, field: str) -> str | None:
        return self.text(field) or None

    def code(self, field: str) -> str:
        value = self.text(field)
        return _code(field, value) if value else DEFAULTS.get(field, "")

    def id_number(self) -> str:
        cell = self.cell("id_number")
        if isinstance(cell, int | float) and not isinstance(cell, bool):
            self.problems.append(
                FieldProblem(
                    "id_number",
                    "证件号码在 Excel 中存成了数字，超过 15 位的数字已被改动；"
                    "请把该列设为文本格式后重新填写",
                )
            )
        return identifiers.normalise_id_number(self.text("id_number"))

    def birth_date(self) -> date | None:
        try:
            found = parse_date(self.cell("birth_date"))
        except ValueError:
            reason = "日期应写作 YYYY-MM-DD 或 YYYYMMDD，且是真实的日期"
            self.problems.append(FieldProblem("birth_date", reason))
            return None
        if found is None:
            self.problems.append(FieldProblem("birth_date", "请填写出生日期"))
        return found

    def enrolments(self) -> tuple[EnrolmentRecord, ...]:
        value = self.text("enrolments")
        if not value:
            return ()
        items = [item.strip() for item in _ITEM_SPLIT.split(value) if item.strip()]
        found = []
        for number, item in enumerate(items, 1):
            parsed = _enrolment(item)
            if parsed is None:
                reason = (
                    f"第 {number} 项“{item}”应写作 险种:状态:开始日期[:终止日期]，"
                    "如 110:enrolled:2015-07-01"
                )
                self.problems.append(FieldProblem("enrolments", reason))
            else:
                found.append(parsed)
        return tuple(found)


def _enrolment(item: str) -> EnrolmentRecord | None:
    """``110:enrolled:2015-07-01[:2020-12-31]`` (status also as 参保缴费 ...), or None."""
    parts = [p.strip() for p in _PART_SPLIT.split(item)]
    if len(parts) not in (3, 4) or not parts[0] or not parts[1]:
        return None
    try:
        start = parse_date(parts[2])
        end = parse_date(parts[3]) if len(parts) == 4 else None
    except ValueError:
        return None
    if start is None:
        return None
    status = _code("insurance_status", parts[1])
    return EnrolmentRecord(parts[0], status, start, end)


def _employer(reader: _Reader, rules: RowRules, employers: Mapping[str, int]) -> int | None:
    """The employer id of the row (its credit code cell, or the import's employer)."""
    raw = reader.text("employer_credit_code")
    value = identifiers.normalise_credit_code(raw) if raw else ""
    field = "employer_credit_code"
    if rules.employer is not None:
        code, chosen = rules.employer
        if value and value != code:
            reader.problems.append(FieldProblem(field, f"与本次导入指定的单位 {code} 不一致"))
        reader.given.add("employer_id")
        return chosen
    if not value:
        return None
    reader.given.add("employer_id")
    found = identifiers.credit_code_problems(value, field=field)
    if found:
        reader.problems.extend(found)
        return None
    employer_id = employers.get(value)
    if employer_id is None:
        reader.problems.append(FieldProblem(field, f"统一社会信用代码 {value} 的单位尚未登记"))
    return employer_id


def scope_problems(record: PersonRecord, region_prefix: str) -> list[FieldProblem]:
    """The person's residence and household both outside the operator's region."""
    if not region_prefix:
        return []
    if record.residence_region_code.startswith(
        region_prefix
    ) or record.household_region_code.startswith(region_prefix):
        return []
    reason = "户籍地和居住地都不在本机构服务区域内"
    return [FieldProblem("residence_region_code", reason)]


def parse_row(cells: Sequence[Cell], rules: RowRules, employers: Mapping[str, int]) -> ParsedRow:
    """Read one row and check it by every rule; ``employers`` maps credit codes to ids."""
    reader = _Reader(cells, rules.header)
    id_number = reader.id_number()
    born = reader.birth_date()
    record = PersonRecord(
        id_number=id_number,
        document_type=reader.code("document_type"),
        name=reader.text("name"),
        gender=reader.code("gender"),
        ethnicity=reader.code("ethnicity"),
        birth_date=born or rules.today,
        nationality=reader.text("nationality") or DEFAULTS["nationality"],
        phone=reader.optional("phone"),
        address=reader.optional("address"),
        household_region_code=reader.text("household_region_code"),
        residence_region_code=reader.text("residence_region_code"),
        employer_id=_employer(reader, rules, employers),
        community_code=reader.optional("community_code"),
        enrolments=reader.enrolments(),
    ).normalised()
    found = records.problems(record, today=rules.today)
    if born is None:
        found = [p for p in found if p.field != "birth_date"]
    found = reader.problems + found + scope_problems(record, rules.region_prefix)
    return ParsedRow(id_number, record, frozenset(reader.given), tuple(found))


def merged(stored: PersonRecord, new: PersonRecord, given: frozenset[str]) -> PersonRecord:
    """The stored record with the values the row gave; what it left out stays as stored."""
    changes = {f: getattr(new, f) for f in MERGED_FIELDS if f in given}
    return replace(stored, **changes).normalised()


def reasons(problems: Sequence[FieldProblem], titles: Mapping[str, str]) -> str:
    """``AAC006: 出生日期与证件号码不一致；phone: ...``, each field as the file headed it.

    Numbers that look like ID, bank card or mobile numbers are masked, in case a message
    quotes one; line breaks (a cell may hold one) become spaces, so a reject is one line.
    """
    parts = []
    for problem in problems:
        head, dot, rest = problem.field.partition(".")
        field = titles.get(head, head) + dot + rest
        parts.append(f"{field}: {problem.reason}")
    return mask_text(" ".join("；".join(parts).split("\n")).replace("\r", " "))
