"""The Translator: tables of one system as dictionaries, read both ways, with clear errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sscard.exchange.errors import CodeSetNotFound, CodeSetNotMapped, CodeUnmapped
from sscard.exchange.translation.translator import SetInfo, SystemTables, Translator

SETS = {
    "gender": SetInfo(
        "gender", "性别", {"0": "未知的性别", "1": "男", "2": "女", "9": "未说明的性别"}
    ),
    "ethnicity": SetInfo("ethnicity", "民族", {"01": "汉族", "02": "蒙古族", "03": "回族"}),
    "document_type": SetInfo("document_type", "证件类型", {"01": "居民身份证"}),
}

PROVINCE = Translator(
    SystemTables(
        "province",
        "省卡管系统",
        {"gender": "AAC004", "ethnicity": "AAC005"},
        {
            "gender": {"0": "0", "1": "1", "2": "2", "9": "9"},
            "ethnicity": {"01": "01", "02": "02", "03": "03"},
        },
    ),
    SETS,
    revision="r1",
)

MEDICAL = Translator(
    SystemTables(
        "medical_insurance",
        "医保系统",
        {"gender": "SEX"},
        {"gender": {"1": "M", "2": "F", "0": "U"}},
    ),
    SETS,
)


def test_the_province_takes_our_gender_codes_as_they_are_both_ways() -> None:
    assert PROVINCE.to_external("gender", "1") == "1"
    assert PROVINCE.to_internal("gender", "2") == "2"
    assert PROVINCE.external_field("gender") == "AAC004"
    assert PROVINCE.translate("ethnicity", "03", "in") == "03"


def test_the_medical_insurance_system_codes_gender_as_m_f_u_both_ways() -> None:
    assert [MEDICAL.to_external("gender", c) for c in ("1", "2", "0")] == ["M", "F", "U"]
    assert [MEDICAL.translate("gender", c, "in") for c in ("M", "F", "U")] == ["1", "2", "0"]
    assert MEDICAL.external_field("gender") == "SEX"


def test_an_unmapped_value_is_refused_naming_the_system_the_set_and_the_value() -> None:
    with pytest.raises(CodeUnmapped) as out:
        MEDICAL.to_external("gender", "9")
    assert out.value.message == "医保系统的“性别”没有与本系统代码 9 对应的代码"
    assert (out.value.status_code, out.value.code) == (422, "code_unmapped")
    assert out.value.fields[0].field == "value"
    with pytest.raises(CodeUnmapped) as back:
        MEDICAL.to_internal("gender", "X")
    assert back.value.message == "医保系统的“性别”代码 X 没有对应的本系统代码"


def test_a_code_we_do_not_have_is_named_as_ours_not_theirs() -> None:
    with pytest.raises(CodeUnmapped) as caught:
        MEDICAL.to_external("gender", "7")
    assert caught.value.message == "本系统的“性别”没有代码 7，无法翻译为医保系统的代码"
    with pytest.raises(CodeUnmapped, match="（空值）"):
        MEDICAL.to_external("gender", "")


def test_an_unknown_set_and_a_set_without_a_table_are_told_apart() -> None:
    with pytest.raises(CodeSetNotFound, match="代码集 colour 不存在"):
        MEDICAL.to_external("colour", "1")
    with pytest.raises(CodeSetNotMapped, match="医保系统没有“证件类型”的代码对照表"):
        MEDICAL.external_field("document_type")
    assert MEDICAL.code_sets == ["gender"]


def test_a_column_is_translated_in_order_and_every_unmapped_value_is_named() -> None:
    assert MEDICAL.translate_many("gender", ["1", "2", "1", "0"]) == ["M", "F", "M", "U"]
    assert MEDICAL.translate_many("gender", ["F", "M"], "in") == ["2", "1"]
    with pytest.raises(CodeUnmapped) as caught:
        MEDICAL.translate_many("gender", ["1", "9", "9", "7", "2"])
    assert "共 2 个不同的值无法翻译" in caught.value.message
    assert [p.field for p in caught.value.fields] == ["values[1]", "values[3]"]


def test_a_record_travels_under_the_systems_field_names_and_comes_back() -> None:
    ours = {"gender": "2", "ethnicity": "03"}
    theirs = PROVINCE.to_external_record(ours)
    assert theirs == {"AAC004": "2", "AAC005": "03"}
    row = {**theirs, "AAC002": "370811198503154515", "AAC003": "张建国"}
    assert PROVINCE.to_internal_record(row) == ours


@given(
    st.dictionaries(
        st.text(alphabet="0123456789abc", min_size=1, max_size=4),
        st.text(alphabet="XYZ0123456789", min_size=1, max_size=4),
        max_size=30,
    )
)
def test_every_one_to_one_table_reads_back_to_the_code_it_started_from(
    table: dict[str, str],
) -> None:
    inverse = {theirs: ours for ours, theirs in table.items()}
    one_to_one = {ours: theirs for theirs, ours in inverse.items()}
    codes = SetInfo("s", "集", dict.fromkeys(one_to_one, "名"))
    translator = Translator(
        SystemTables("x", "某系统", {"s": "S"}, {"s": one_to_one}), {"s": codes}
    )
    for ours in one_to_one:
        assert translator.to_internal("s", translator.to_external("s", ours)) == ours
