"""Reading a benefit file (待遇发放文件) uploaded by a clerk: CSV or XLSX, five columns.

Design overview
---------------
The file is read with the registry's tabular reader (CSV in UTF-8 or GB18030, XLSX with
its size checks). Its header names the columns, in any order: 社会保障号码, 姓名, 金额
(yuan, at most two decimals), 待遇类型 (养老金 / 失业金 / 补贴, or ``pension`` /
``unemployment`` / ``subsidy``) and 期别 (the month paid for, ``YYYYMM``). One file is one
batch: every row has the same benefit kind and period.

This module checks the shape of each row (no database); the service checks each row
against the registry and the cards. A file with any bad row is refused as a whole, every
bad row named with its row number and reason: nothing of it is imported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sscard.errors import FieldProblem
from sscard.payments.codes import money
from sscard.payments.codes.errors import CodeRefused
from sscard.registry import identifiers
from sscard.registry.imports import tabular

KINDS = {"pension": "养老金", "unemployment": "失业金", "subsidy": "补贴"}
"""Benefit kinds (待遇类型): code -> Chinese name."""
MAX_ROWS = 100_000
MAX_PROBLEMS = 50
"""The most bad rows one refusal names (the count says how many there were)."""
LINE_LIMIT_FEN = 10_000_000
"""The most one line may pay: 100,000.00 yuan."""
FIELDS = {
    "id_number": "社会保障号码",
    "name": "姓名",
    "amount": "金额",
    "kind": "待遇类型",
    "period": "期别",
}
_ALIASES = {tabular.header_key(title): field for field, title in FIELDS.items()} | {
    "身份证号": "id_number",
    "公民身份号码": "id_number",
    "aac002": "id_number",
    "aac003": "name",
    "金额(元)": "amount",
    "金额（元）": "amount",
}
_KIND_CODES = {name: code for code, name in KINDS.items()} | {code: code for code in KINDS}


@dataclass(frozen=True, slots=True)
class BenefitRow:
    """One row of a benefit file, its shape checked."""

    row_no: int
    id_number: str
    name: str
    amount_fen: int
    kind: str
    period: str


def _text(cells: list[tabular.Cell], index: int | None) -> str:
    if index is None or index >= len(cells) or cells[index] is None:
        return ""
    return str(cells[index]).strip()


def _period(value: str) -> str | None:
    if not re.fullmatch(r"\d{6}", value):
        return None
    return value if 1 <= int(value[4:]) <= 12 and value[:2] in ("19", "20") else None


def _row(row_no: int, values: dict[str, str]) -> tuple[BenefitRow | None, list[str]]:
    problems: list[str] = []
    number = identifiers.normalise_id_number(values["id_number"]) or ""
    if not re.fullmatch(r"\d{17}[\dX]", number):
        problems.append("社会保障号码应为 18 位")
    if not values["name"]:
        problems.append("姓名为空")
    amount = 0
    try:
        amount = money.yuan_to_fen(values["amount"], limit=LINE_LIMIT_FEN)
        if amount <= 0:
            problems.append("金额应大于 0")
    except CodeRefused as exc:
        problems.append(f"金额{values['amount'][:16] or '为空'}不正确：{exc.detail}")
    kind = _KIND_CODES.get(values["kind"].lower() if values["kind"].isascii() else values["kind"])
    if kind is None:
        problems.append("待遇类型应为 养老金、失业金 或 补贴")
    period = _period(values["period"])
    if period is None:
        problems.append("期别应为年月 YYYYMM，如 202612")
    if problems:
        return None, problems
    return BenefitRow(row_no, number, values["name"], amount, kind or "", period or ""), []


def read_file(path: Path) -> Iterator[tuple[int, BenefitRow | None, list[str]]]:
    """(row number, the row or None, its problems) for every data row of the file."""
    found = tabular.scan(path)
    rows = tabular.read_rows(path, found)
    first = next(rows, None)
    if first is None:
        return
    header = tabular.match_header(
        first[1], _ALIASES, required=list(FIELDS), describe=lambda field: FIELDS[field]
    )
    for count, (_line, cells) in enumerate(rows, start=1):
        if count > MAX_ROWS:
            yield count, None, [f"文件超过 {MAX_ROWS} 行，请分成几个文件导入"]
            return
        values = {field: _text(cells, header.columns.get(field)) for field in FIELDS}
        row, problems = _row(count, values)
        yield count, row, problems


def file_digest(path: Path) -> str:
    """SM3 of the file's bytes (a file imported twice is found by it)."""
    return tabular.scan(path).digest


def problem(row_no: int, reason: str) -> FieldProblem:
    """A bad row as a refusal names it: the field is the row, the reason in a clerk's words."""
    return FieldProblem(f"第{row_no}行", reason)
