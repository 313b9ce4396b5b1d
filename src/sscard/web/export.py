"""Lists exported as files (导出 CSV / 导出 Excel): one helper every list page uses.

The caller fetches the rows with the same filters and the same scope as its page, masked
as the page shows them, and names the columns; this module writes them. CSV starts with a
UTF-8 byte order mark so that Excel opens the Chinese text correctly; a cell that would
start a formula (=, +, -, @) gets a leading apostrophe so a spreadsheet shows it as text.
More rows than :data:`MAX_ROWS` are refused with a message asking for a narrower search.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from io import BytesIO, StringIO
from typing import Generic, TypeVar
from urllib.parse import quote

from fastapi.responses import Response
from openpyxl import Workbook

from sscard.db import CHINA_TZ
from sscard.errors import FieldProblem, ValidationFailed

T = TypeVar("T")

MAX_ROWS = 5000
"""The most rows one export carries."""

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Column(Generic[T]):
    """One column of an export: its heading and how a row gives its cell."""

    heading: str
    cell: Callable[[T], object]


def check_format(fmt: str) -> str:
    """The export format asked for, or a 422 naming the field."""
    if fmt not in FORMATS:
        reason = "导出格式应为 CSV 或 Excel"
        raise ValidationFailed([FieldProblem("format", reason)], f"导出格式：{reason}")
    return fmt


def check_count(total: int) -> None:
    """Refuse an export of more than :data:`MAX_ROWS` rows, in a clerk's words."""
    if total > MAX_ROWS:
        reason = f"共 {total} 条，超过单次导出上限 {MAX_ROWS} 条，请缩小查询范围后分批导出"
        raise ValidationFailed([FieldProblem("format", reason)], f"导出：{reason}")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return f"'{text}" if text.startswith(_FORMULA) else text


def table(rows: Sequence[T], columns: Sequence[Column[T]]) -> list[list[str]]:
    """The heading row and one row of text per item (times in Beijing time)."""
    return [[c.heading for c in columns]] + [[_text(c.cell(r)) for c in columns] for r in rows]


def to_csv(cells: list[list[str]]) -> bytes:
    out = StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(cells)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(cells: list[list[str]], sheet: str) -> bytes:
    book = Workbook(write_only=True)
    page = book.create_sheet(sheet[:31])
    for row in cells:
        page.append(row)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def export(
    rows: Sequence[T], columns: Sequence[Column[T]], *, fmt: str, name: str, title: str
) -> Response:
    """The rows as a CSV or XLSX download named ``<name>-<Beijing date>.<fmt>`` (ASCII) with
    the Chinese ``title`` as the UTF-8 file name browsers prefer."""
    check_format(fmt)
    check_count(len(rows))
    cells = table(rows, columns)
    content = to_csv(cells) if fmt == "csv" else to_xlsx(cells, title)
    day = datetime.now(CHINA_TZ).strftime("%Y%m%d")
    disposition = (
        f'attachment; filename="{name}-{day}.{fmt}"; '
        f"filename*=UTF-8''{quote(f'{title}-{day}.{fmt}')}"
    )
    headers = {"Content-Disposition": disposition, "Cache-Control": "no-store"}
    return Response(content, media_type=FORMATS[fmt], headers=headers)
