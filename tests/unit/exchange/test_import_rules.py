"""CSV files of code sets and mappings: encodings, columns, and the rules every row must keep."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sscard.exchange.errors import FileUnreadable
from sscard.exchange.translation.csvfiles import (
    CODE_SET_COLUMNS,
    CODE_SET_REQUIRED,
    MAPPING_COLUMNS,
    MAPPING_REQUIRED,
    read_rows,
    rejects_message,
    write_rows,
)
from sscard.exchange.translation.plans import plan_code_sets, plan_mappings
from sscard.exchange.translation.translator import SetInfo, SystemTables

SETS = {
    "gender": SetInfo(
        "gender", "性别", {"0": "未知的性别", "1": "男", "2": "女", "9": "未说明的性别"}
    ),
    "ethnicity": SetInfo("ethnicity", "民族", {"01": "汉族", "02": "蒙古族"}),
}
MEDICAL = SystemTables(
    "medical_insurance", "医保系统", {"gender": "SEX"}, {"gender": {"1": "M", "2": "F", "0": "U"}}
)
HEADER = "system,code_set,external_field,code,external_code\n"


def sets_file(text: str, encoding: str = "utf-8") -> list:
    return read_rows(text.encode(encoding), columns=CODE_SET_COLUMNS, required=CODE_SET_REQUIRED)


def mappings(text: str, *, keep_existing: bool = False):
    rows = read_rows((HEADER + text).encode(), columns=MAPPING_COLUMNS, required=MAPPING_REQUIRED)
    systems = {"medical_insurance": MEDICAL}
    return plan_mappings(rows, code_sets=SETS, systems=systems, keep_existing=keep_existing)


def test_files_are_read_in_utf8_with_or_without_bom_and_in_gb18030() -> None:
    text = "code_set,code,name\ncard_status,1,正常\ncard_status,2,挂失\n"
    for data in (text.encode(), text.encode("utf-8-sig"), text.encode("gb18030")):
        rows = read_rows(data, columns=CODE_SET_COLUMNS, required=CODE_SET_REQUIRED)
        assert [(r.line, r["code"], r["name"]) for r in rows] == [
            (2, "1", "正常"),
            (3, "2", "挂失"),
        ]


def test_an_export_starts_with_a_bom_and_ends_lines_as_excel_does() -> None:
    data = write_rows(("code_set", "code", "name"), [("gender", "1", "男")])
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig") == "code_set,code,name\r\ngender,1,男\r\n"


@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[a-z][a-z0-9_]{1,8}", fullmatch=True),
            st.from_regex(r"[0-9A-Z]{1,4}", fullmatch=True),
            st.text(min_size=1, max_size=12).filter(lambda s: s.strip() == s and s.strip()),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_what_is_written_is_read_back_cell_for_cell(rows: list[tuple[str, str, str]]) -> None:
    data = write_rows(("code_set", "code", "name"), rows)
    back = read_rows(data, columns=CODE_SET_COLUMNS, required=CODE_SET_REQUIRED)
    assert [(r["code_set"], r["code"], r["name"]) for r in back] == rows


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "文件是空的"),
        (b"code_set,code\n", "缺少列：name"),
        (b"code_set,code,name,colour\n", "不认识的列：colour"),
        (b"code_set,code,name,code\n", "列重复：code"),
        (b"code_set,code,name\n", "没有数据行"),
        (b'code_set,code,name\ngender,"1"x,y\n', "第 2 行不是有效的 CSV"),
    ],
)
def test_a_file_that_is_not_a_table_of_the_right_columns_is_refused(
    data: bytes, reason: str
) -> None:
    with pytest.raises(FileUnreadable, match=reason):
        read_rows(data, columns=CODE_SET_COLUMNS, required=CODE_SET_REQUIRED)


def test_each_bad_code_set_row_is_named_with_its_line_and_column() -> None:
    rows = sets_file(
        "code_set,code,name,code_set_name\n"
        "card_status,1,正常,卡状态\n"
        "Card Status,2,挂失,卡状态\n"
        "card_status,1,正常,卡状态\n"
        "card_status,3,=cmd|x,卡状态\n"
        "card_status,4,注销,卡片状态\n"
        "card_status,5,已制卡,卡状态,extra\n"
    )
    plan = plan_code_sets(rows, SETS)
    assert [(r.line, r.column) for r in plan.rejects] == [
        (3, "code_set"),
        (4, "code"),
        (5, "name"),
        (6, "code_set_name"),
        (7, "#"),
    ]
    assert plan.rejects[1].reason == "与第 2 行重复"
    message = rejects_message(plan.rejects)
    assert message.startswith("导入被拒绝，未做任何更改：5 行有误。第 3 行 code_set：")


def test_a_code_set_file_adds_renames_and_leaves_alone() -> None:
    rows = sets_file(
        "code_set,code,name,code_set_name\n"
        "gender,1,男性,性别\n"
        "gender,2,女,性别\n"
        "card_status,1,正常,卡状态\n"
    )
    plan = plan_code_sets(rows, SETS)
    assert plan.rejects == []
    assert plan.new_sets == {"card_status": "卡状态"}
    assert plan.new_codes == [("card_status", "1", "正常")]
    assert plan.renamed_codes == [("gender", "1", "男性")]
    assert plan.unchanged == 1
    kept = plan_code_sets(rows, SETS, keep_existing=True)
    assert (kept.renamed_codes, kept.skipped) == ([], 1)


def test_an_external_code_may_belong_to_only_one_of_our_codes() -> None:
    plan = mappings("medical_insurance,gender,SEX,9,U\n")
    assert [(r.line, r.column) for r in plan.rejects] == [(2, "external_code")]
    assert "已对应“性别”的本系统代码 0（现有对照）" in plan.rejects[0].reason
    twice = mappings("ps,gender,XB,1,A\nps,gender,XB,2,A\n")
    assert [r.line for r in twice.rejects] == [2, 3]
    assert "第 3 行" in twice.rejects[0].reason and "第 2 行" in twice.rejects[1].reason


def test_one_of_our_codes_may_have_only_one_external_code_per_file() -> None:
    plan = mappings("medical_insurance,gender,SEX,9,N\nmedical_insurance,gender,SEX,9,Q\n")
    assert [(r.line, r.column, r.reason) for r in plan.rejects] == [(3, "code", "与第 2 行重复")]


def test_codes_may_swap_their_external_codes_in_one_file() -> None:
    plan = mappings("medical_insurance,gender,SEX,1,F\nmedical_insurance,gender,SEX,2,M\n")
    assert plan.rejects == []
    assert sorted(plan.changed_mappings) == [
        ("medical_insurance", "gender", "1", "F"),
        ("medical_insurance", "gender", "2", "M"),
    ]


def test_a_table_has_one_field_name_and_a_field_name_one_table() -> None:
    plan = mappings("ps,gender,XB,1,1\nps,gender,SEX,2,2\nps,ethnicity,XB,01,01\n")
    assert [(r.line, r.column) for r in plan.rejects] == [
        (3, "external_field"),
        (2, "external_field"),
        (4, "external_field"),
    ]
    assert "第 2 行是 XB" in plan.rejects[0].reason
    assert "也用于“民族”" in plan.rejects[1].reason


def test_unknown_sets_and_codes_are_named_with_a_hint_for_lost_leading_zeros() -> None:
    plan = mappings("ps,colour,C,1,1\nps,ethnicity,MZ,1,1\nps,gender,XB,7,7\n")
    reasons = [r.reason for r in plan.rejects]
    assert reasons[0] == "代码集 colour 不存在"
    assert reasons[1] == "“民族”没有代码 1（是否被表格软件去掉了前导零？应为 01）"
    assert reasons[2] == "“性别”没有代码 7"


def test_a_new_system_and_its_field_are_created_by_its_first_rows() -> None:
    rows = read_rows(
        b"system,code_set,external_field,code,external_code,system_name\n"
        b"public_security,gender,XB,1,1,\xe5\x85\xac\xe5\xae\x89\n",
        columns=MAPPING_COLUMNS,
        required=MAPPING_REQUIRED,
    )
    plan = plan_mappings(rows, code_sets=SETS, systems={"medical_insurance": MEDICAL})
    assert plan.new_systems == {"public_security": "公安"}
    assert plan.new_fields == {("public_security", "gender"): "XB"}
    assert plan.new_mappings == [("public_security", "gender", "1", "1")]


def test_loading_defaults_adds_what_is_missing_and_keeps_local_changes() -> None:
    plan = mappings(
        "medical_insurance,gender,GENDER,1,X\n"
        "medical_insurance,gender,GENDER,9,U\n"
        "medical_insurance,gender,GENDER,2,F\n",
        keep_existing=True,
    )
    assert plan.rejects == []
    assert (plan.new_mappings, plan.renamed_fields, plan.skipped, plan.unchanged) == ([], {}, 2, 1)
