"""The list export helper on its own: files read back, Beijing times, formulas kept as
text, the row cap and an unknown format refused with the field named."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO, StringIO

import pytest
from openpyxl import load_workbook

from sscard.errors import ValidationFailed
from sscard.web import export
from sscard.web.export import Column


@dataclass
class Row:
    name: str
    at: datetime


COLUMNS = [Column("姓名", lambda r: r.name), Column("时间（北京时间）", lambda r: r.at)]
ROWS = [Row("张*", datetime(2026, 12, 4, 4, 30, tzinfo=UTC)), Row("=SUM(A1)", datetime(2026, 1, 1))]


def test_a_csv_export_starts_with_a_bom_and_reads_back_with_beijing_times() -> None:
    answer = export.export(ROWS, COLUMNS, fmt="csv", name="rows", title="测试列表")
    body = bytes(answer.body)
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(StringIO(body.decode("utf-8-sig"))))
    assert rows == [
        ["姓名", "时间（北京时间）"],
        ["张*", "2026-12-04 12:30:00"],
        ["'=SUM(A1)", "2026-01-01 08:00:00"],
    ]
    assert answer.media_type == "text/csv; charset=utf-8"
    disposition = answer.headers["content-disposition"]
    assert (
        disposition.startswith('attachment; filename="rows-') and "filename*=UTF-8''" in disposition
    )


def test_an_xlsx_export_reads_back_with_openpyxl() -> None:
    answer = export.export(ROWS, COLUMNS, fmt="xlsx", name="rows", title="测试列表")
    sheet = load_workbook(BytesIO(bytes(answer.body)), read_only=True)["测试列表"]
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [
        ["姓名", "时间（北京时间）"],
        ["张*", "2026-12-04 12:30:00"],
        ["'=SUM(A1)", "2026-01-01 08:00:00"],
    ]


def test_more_rows_than_the_cap_are_refused_with_a_message_asking_for_a_narrower_search() -> None:
    many = [Row("张*", datetime(2026, 1, 1, tzinfo=UTC))] * (export.MAX_ROWS + 1)
    with pytest.raises(ValidationFailed) as refused:
        export.export(many, COLUMNS, fmt="csv", name="rows", title="测试列表")
    assert refused.value.fields[0].field == "format"
    assert f"超过单次导出上限 {export.MAX_ROWS} 条" in refused.value.message
    assert "缩小查询范围" in refused.value.message


def test_an_unknown_export_format_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationFailed) as refused:
        export.export(ROWS, COLUMNS, fmt="pdf", name="rows", title="测试列表")
    assert refused.value.fields[0].field == "format"
    assert "CSV 或 Excel" in refused.value.message
