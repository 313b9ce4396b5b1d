import pytest

from sscard.errors import FieldProblem
from sscard.registry import codes
from sscard.registry.codes import name_of, validate_code


def test_gender_follows_gb_t_2261_1() -> None:
    assert dict(codes.GENDER.entries) == {
        "0": "未知的性别",
        "1": "男",
        "2": "女",
        "9": "未说明的性别",
    }


def test_ethnicity_runs_from_han_to_jino_in_the_order_of_gb_3304() -> None:
    entries = codes.ETHNICITY.entries
    assert [f"{n:02d}" for n in range(1, 57)] == [c for c in entries if c < "97"]
    assert (entries["01"], entries["05"], entries["46"], entries["56"]) == (
        "汉族",
        "维吾尔族",
        "德昂族",
        "基诺族",
    )
    assert len(set(entries.values())) == len(entries) == 58


def test_names_are_looked_up_by_set_or_by_its_key() -> None:
    assert name_of(codes.ETHNICITY, "03") == "回族"
    assert name_of("insurance_type", "110") == "企业职工基本养老保险"
    assert name_of("gender", "7") is None


@pytest.mark.parametrize(
    ("code_set", "code", "reason"),
    [
        ("ethnicity", "99", "民族代码 99 不存在，应为 01-56、97 或 98"),
        ("gender", "3", "性别代码 3 不存在，应为 0、1、2 或 9（1 男，2 女）"),
        (
            "person_status",
            "gone",
            "人员状态代码 gone 不存在，应为 normal（正常）、deceased（死亡）或 moved_out（迁出）",
        ),
        ("ethnicity", "", "请填写民族"),
    ],
)
def test_an_unknown_code_is_named_with_the_codes_that_would_do(
    code_set: str, code: str, reason: str
) -> None:
    assert validate_code(code_set, code) == [FieldProblem(code_set, reason)]


def test_a_known_code_has_no_problem_and_the_field_name_can_be_chosen() -> None:
    assert validate_code("ethnicity", "01") == []
    assert validate_code("gender", None, field="sex") == [FieldProblem("sex", "请填写性别")]


def test_every_insurance_type_belongs_to_one_of_the_five_kinds() -> None:
    assert set(codes.INSURANCE_KIND) == set(codes.INSURANCE_TYPE.entries)
    assert set(codes.INSURANCE_KIND.values()) == {
        "pension",
        "medical",
        "unemployment",
        "work_injury",
        "maternity",
    }


def test_the_indicator_names_of_the_ministry_map_to_our_fields() -> None:
    assert codes.INDICATORS["AAC002"] == "id_number"
    assert codes.INDICATORS["AAC004"] == "gender"
    assert codes.INDICATORS["AAB301"] == "region_code"
    assert len(set(codes.INDICATORS.values())) == len(codes.INDICATORS) == 11


def test_every_translation_is_one_to_one_over_known_internal_codes() -> None:
    for system, tables in codes.TRANSLATIONS.items():
        for key, table in tables.items():
            internal = codes.CODE_SETS[key].entries
            assert set(table.codes) <= set(internal), (system, key)
            assert len(set(table.codes.values())) == len(table.codes), (system, key)


def test_the_province_and_medical_insurance_name_and_code_gender_differently() -> None:
    province = codes.TRANSLATIONS["province"]["gender"]
    medical = codes.TRANSLATIONS["medical_insurance"]["gender"]
    assert (province.field, province.codes["2"]) == ("AAC004", "2")
    assert (medical.field, medical.codes["2"]) == ("SEX", "F")
    assert "9" not in medical.codes
