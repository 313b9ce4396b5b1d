"""The CSV forms of the tables: reading, writing, and how a rejected row is reported."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sscard.errors import FieldProblem
from sscard.exchange.errors import FileUnreadable
from sscard.exchange.translation.rules import shown

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


def extra_cells(row: CsvRow) -> Reject | None:
    if not row.extra:
        return None
    width = len(row.values)
    return Reject(row.line, "#", f"这一行有 {width + row.extra} 个值，表头只有 {width} 列")
