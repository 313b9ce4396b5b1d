"""One row of an import file becoming a checked record (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sscard.registry.imports import rows, tabular
from sscard.registry.records import EnrolmentRecord, PersonRecord

TODAY = date(2026, 1, 1)
MAN = "370811198503154515"


def _rules(*headers: str, **changes: object) -> rows.RowRules:
    header = tabular.match_header(list(headers), rows.ALIASES, required=())
    return replace(rows.RowRules(header=header, today=TODAY), **changes)  # type: ignore[arg-type]


ENGLISH = _rules(
    "id_number",
    "name",
    "gender",
    "birth_date",
    "household_region_code",
    "residence_region_code",
    "phone",
    "ethnicity",
    "employer_credit_code",
    "enrolments",
)


def _row(**cells: object) -> list[tabular.Cell]:
    values: dict[str, object] = {
        "id_number": MAN,
        "name": "张建国",
        "gender": "1",
        "birth_date": "1985-03-15",
        "household_region_code": "370811",
        "residence_region_code": "370811",
        "phone": "",
        "ethnicity": "",
        "employer_credit_code": "",
        "enrolments": "",
    }
    values.update(cells)
    order = sorted(ENGLISH.header.columns, key=lambda f: ENGLISH.header.columns[f])
    return [values[f] for f in order]  # type: ignore[misc]


def test_a_good_row_becomes_a_normalised_record_with_defaults() -> None:
    parsed = rows.parse_row(_row(id_number="37081119850315451５", gender="男"), ENGLISH, {})
    assert parsed.problems == ()
    assert parsed.record.id_number == MAN and parsed.record.gender == "1"
    assert (parsed.record.document_type, parsed.record.ethnicity) == ("01", "01")
    assert "ethnicity" not in parsed.given and "name" in parsed.given


def test_codes_may_be_given_by_their_chinese_names() -> None:
    parsed = rows.parse_row(_row(ethnicity="回族"), ENGLISH, {})
    assert parsed.record.ethnicity == "03"
    assert rows.parse_row(_row(ethnicity="回"), ENGLISH, {}).record.ethnicity == "03"


def test_every_problem_of_a_bad_row_is_named_with_the_files_own_header() -> None:
    rules = _rules("AAC002", "AAC003", "AAC004", "AAC006", "户籍地区划代码", "AAB301", "AAE005")
    cells: list[tabular.Cell] = [MAN, "张建国", "2", "1985-03-16", "370811", "999999", "123"]
    parsed = rows.parse_row(cells, rules, {})
    fields = [p.field for p in parsed.problems]
    assert fields == ["birth_date", "gender", "phone", "residence_region_code"]
    text = rows.reasons(parsed.problems, rules.header.titles)
    assert text.startswith("AAC006: 出生日期与证件号码不一致")
    assert "AAC004: 性别与证件号码不一致" in text and "AAB301: 行政区划代码" in text


def test_an_unreadable_birth_date_is_one_problem_not_three() -> None:
    parsed = rows.parse_row(_row(birth_date="15.3.85"), ENGLISH, {})
    assert [p.field for p in parsed.problems] == ["birth_date"]
    assert "YYYY-MM-DD" in parsed.problems[0].reason


def test_an_id_number_excel_turned_into_a_number_is_refused() -> None:
    parsed = rows.parse_row(_row(id_number=370811198503154500), ENGLISH, {})
    assert any("文本格式" in p.reason for p in parsed.problems)


def test_the_employer_must_be_registered_and_agree_with_the_import() -> None:
    code = "92370812MAA3BTRH89"
    good = rows.parse_row(_row(employer_credit_code=code.lower()), ENGLISH, {code: 7})
    assert good.record.employer_id == 7 and "employer_id" in good.given
    unknown = rows.parse_row(_row(employer_credit_code=code), ENGLISH, {})
    assert unknown.problems[0].reason.endswith("的单位尚未登记")
    chosen = replace(ENGLISH, employer=("92370812MAA3BTRH89", 9))
    assert rows.parse_row(_row(), chosen, {}).record.employer_id == 9
    other = rows.parse_row(_row(employer_credit_code="91370831MA8XX0R032"), chosen, {})
    assert "不一致" in other.problems[0].reason


def test_enrolments_are_read_from_one_cell() -> None:
    parsed = rows.parse_row(
        _row(
            enrolments="110:enrolled:2010-07-01；310：参保缴费：20100701;210:terminated:2010-07-01:2020-01-31"
        ),
        ENGLISH,
        {},
    )
    assert parsed.problems == ()
    assert parsed.record.enrolments == (
        EnrolmentRecord("110", "enrolled", date(2010, 7, 1)),
        EnrolmentRecord("310", "enrolled", date(2010, 7, 1)),
        EnrolmentRecord("210", "terminated", date(2010, 7, 1), date(2020, 1, 31)),
    )
    bad = rows.parse_row(_row(enrolments="110-enrolled"), ENGLISH, {})
    assert "第 1 项“110-enrolled”" in bad.problems[0].reason


def test_a_row_outside_the_operators_region_is_refused() -> None:
    parsed = rows.parse_row(_row(), replace(ENGLISH, region_prefix="370812"), {})
    assert [p.field for p in parsed.problems] == ["residence_region_code"]


def test_a_merge_keeps_what_the_row_left_out() -> None:
    stored = PersonRecord(
        MAN,
        "01",
        "张建国",
        "1",
        "03",
        date(1985, 3, 15),
        "CHN",
        "13853712345",
        "古槐路1号",
        "370811",
        "370811",
        employer_id=4,
        enrolments=(EnrolmentRecord("110", "enrolled", date(2010, 7, 1)),),
    )
    parsed = rows.parse_row(_row(phone="13953700000"), ENGLISH, {})
    merged = rows.merged(stored, parsed.record, parsed.given)
    assert merged.phone == "13953700000"
    assert (merged.ethnicity, merged.address, merged.employer_id) == ("03", "古槐路1号", 4)
    assert merged.enrolments == stored.enrolments


def test_reasons_mask_any_number_they_quote() -> None:
    problem = rows.FieldProblem("id_number", f"与 {MAN} 重复")  # type: ignore[attr-defined]
    assert MAN not in rows.reasons([problem], {})
