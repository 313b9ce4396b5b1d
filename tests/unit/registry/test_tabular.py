"""Reading import files: encodings, kinds, headers, rows (no database)."""

from __future__ import annotations

import hashlib
import io
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from sscard.registry.imports import rows, tabular
from sscard.registry.imports.errors import ImportFileInvalid

HEADER = "id_number,name,gender,birth_date,household_region_code,residence_region_code\n"
ROW = "370811198503154515,张建国,1,1985-03-15,370811,370811\n"


def _write(tmp_path: Path, data: bytes, name: str = "persons.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_utf8_with_and_without_a_byte_order_mark_is_read_as_utf8(tmp_path: Path) -> None:
    plain = tabular.scan(_write(tmp_path, (HEADER + ROW).encode()))
    marked = tabular.scan(_write(tmp_path, b"\xef\xbb\xbf" + (HEADER + ROW).encode(), "bom.csv"))
    assert (plain.kind, plain.encoding) == ("csv", "utf-8")
    assert marked.encoding == "utf-8-sig"
    path = tmp_path / "bom.csv"
    assert [cells[0] for _, cells in tabular.read_rows(path, marked)][0] == "id_number"


def test_gb18030_is_detected_from_its_first_chinese_character(tmp_path: Path) -> None:
    path = _write(tmp_path, (HEADER + ROW).encode("gb18030"))
    found = tabular.scan(path)
    assert found.encoding == "gb18030"
    assert list(tabular.read_rows(path, found))[1][1][1] == "张建国"


def test_a_gb18030_file_whose_first_block_is_ascii_is_still_detected(tmp_path: Path) -> None:
    ascii_row = "370811198503154515,Li Lei,1,1985-03-15,370811,370811\n"
    data = (HEADER + ascii_row * 25_000 + ROW).encode("gb18030")
    assert len(data) > tabular.BLOCK
    assert tabular.scan(_write(tmp_path, data)).encoding == "gb18030"


def test_utf8_that_breaks_later_in_the_file_is_refused_naming_the_line(tmp_path: Path) -> None:
    good = (HEADER + ROW * 3000).encode()
    path = _write(tmp_path, good + b"370811198503154515," + "张".encode("gb18030") + b"\n")
    with pytest.raises(ImportFileInvalid, match="第 3002 行含有无效的 UTF-8"):
        tabular.scan(path)


def test_bytes_that_are_neither_utf8_nor_gb18030_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER.encode() + b"\x81\x20\xff\n")
    with pytest.raises(ImportFileInvalid, match="既不是 UTF-8 也不是 GB18030"):
        tabular.scan(path)


def test_utf16_text_old_excel_and_empty_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportFileInvalid, match="UTF-16"):
        tabular.scan(_write(tmp_path, "\ufeffid_number\n".encode("utf-16-le"), "u.csv"))
    with pytest.raises(ImportFileInvalid, match=r"\.xls"):
        tabular.scan(_write(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "old.xls"))
    with pytest.raises(ImportFileInvalid, match="空"):
        tabular.scan(_write(tmp_path, b"", "empty.csv"))


def test_the_digest_is_the_sm3_of_the_bytes_and_lines_are_counted(tmp_path: Path) -> None:
    data = (HEADER + ROW + ROW).encode()
    found = tabular.scan(_write(tmp_path, data))
    assert found.digest == hashlib.new("sm3", data).hexdigest()
    assert (found.size, found.lines) == (len(data), 3)
    sink = io.BytesIO()
    assert tabular.digest_stream(io.BytesIO(data), sink) == (found.digest, len(data))
    assert sink.getvalue() == data


def test_csv_rows_carry_their_physical_line_and_blank_rows_are_skipped(tmp_path: Path) -> None:
    text = HEADER + ",,,,,\n" + '370811198503154515,"张\n建国",1,1985-03-15,370811,370811\n' + ROW
    path = _write(tmp_path, text.encode())
    read = list(tabular.read_rows(path, tabular.scan(path)))
    assert [line for line, _ in read] == [1, 4, 5]
    assert read[1][1][1] == "张\n建国"


def test_a_tab_separated_file_is_read_by_its_tabs(tmp_path: Path) -> None:
    path = _write(tmp_path, (HEADER + ROW).replace(",", "\t").encode())
    assert list(tabular.read_rows(path, tabular.scan(path)))[1][1][2] == "1"


def test_xlsx_cells_keep_their_types_and_rows_their_numbers(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["AAC002", "AAC003", "AAC006", "phone"])
    sheet.append([None, None, None, None])
    sheet.append(["370811198503154515", "张建国", datetime(1985, 3, 15), 13853712345])
    path = tmp_path / "persons.xlsx"
    book.save(path)
    found = tabular.scan(path)
    assert (found.kind, found.encoding, found.lines) == ("xlsx", None, 3)
    read = list(tabular.read_rows(path, found))
    assert [line for line, _ in read] == [1, 3]
    assert read[1][1] == ["370811198503154515", "张建国", datetime(1985, 3, 15), 13853712345]


def _match(*cells: str) -> tabular.Header:
    return tabular.match_header(
        list(cells),
        rows.ALIASES,
        required=rows.REQUIRED,
        ignored=rows.IGNORED,
        describe=rows.describe,
    )


def test_headers_match_english_indicator_and_chinese_names_in_any_case() -> None:
    header = _match(
        "序号",
        "aac002",
        "ＡＡＣ００３",
        " Gender ",
        "出生日期",
        "HOUSEHOLD_region_code",
        "AAB301",
        "AAE005",
    )
    assert header.columns == {
        "id_number": 1,
        "name": 2,
        "gender": 3,
        "birth_date": 4,
        "household_region_code": 5,
        "residence_region_code": 6,
        "phone": 7,
    }
    assert header.titles["id_number"] == "aac002"


def test_unknown_repeated_and_missing_columns_are_named_together() -> None:
    with pytest.raises(ImportFileInvalid) as caught:
        _match("AAC002", "id_number", "名字", "gender", "birth_date")
    message = caught.value.message
    assert "无法识别的列：名字" in message
    assert "重复的列：AAC002 与 id_number" in message
    assert "缺少必填列：姓名（name / AAC003）" in message
    assert "户籍地区划代码（household_region_code）" in message


def test_dates_are_read_in_the_forms_clerks_write_them() -> None:
    expected = date(1985, 3, 15)
    for value in (
        "1985-03-15",
        "19850315",
        "1985/3/15",
        "1985年3月15日",
        "1985.03.15",
        "1985-03-15 00:00:00",
        19850315,
        datetime(1985, 3, 15),
        expected,
    ):
        assert rows.parse_date(value) == expected, value
    assert rows.parse_date("") is None and rows.parse_date(None) is None
    for bad in ("15/03/1985", "1985-02-30", "yesterday"):
        with pytest.raises(ValueError):
            rows.parse_date(bad)
