from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sscard.errors import FieldProblem, ValidationFailed
from sscard.registry.identifiers import (
    check_character,
    foreigner_id_problems,
    parse_citizen_id,
    parse_foreigner_id,
    validate_citizen_id,
    validate_document,
    validate_mobile,
)

TODAY = date(2026, 1, 15)


def mod_11_2(body: str) -> str:
    """ISO 7064 MOD 11-2 from its definition: weight 2^(i-1) mod 11 at position i from the right.

    The check character sits at position 1, so the 17 body digits hold positions 18 to 2; the
    check value makes the weighted sum of all 18 congruent to 1 modulo 11.
    """
    total = 0
    for offset, digit in enumerate(body):
        position = 18 - offset
        total += int(digit) * pow(2, position - 1, 11)
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def with_check(body: str) -> str:
    return body + mod_11_2(body)


provinces = st.sampled_from(["11", "13", "23", "31", "37", "44", "46", "50", "54", "65"])
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
citizen_ids = st.builds(
    lambda province, rest, born, sequence: with_check(
        f"{province}{rest}{born:%Y%m%d}{sequence:03d}"
    ),
    provinces,
    st.text(alphabet="0123456789", min_size=4, max_size=4),
    birth_dates,
    st.integers(min_value=0, max_value=999),
)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_the_check_character_agrees_with_the_iso_7064_definition(body: str) -> None:
    assert check_character(body) == mod_11_2(body)


@given(citizen_ids)
def test_every_well_formed_citizen_id_is_accepted(number: str) -> None:
    assert validate_citizen_id(number, today=TODAY) == []


@given(citizen_ids, st.sampled_from("0123456789X"))
def test_a_wrong_check_character_is_refused_with_the_right_one_named(
    number: str, wrong: str
) -> None:
    if wrong == number[-1]:
        return
    problems = validate_citizen_id(number[:-1] + wrong, today=TODAY)
    assert problems == [FieldProblem("id_number", f"校验位错误，应为 {number[-1]}")]


@given(citizen_ids)
def test_parsing_reads_region_birth_date_and_gender_from_the_number(number: str) -> None:
    parsed = parse_citizen_id(number, today=TODAY)
    assert parsed.region_code == number[:6]
    assert f"{parsed.birth_date:%Y%m%d}" == number[6:14]
    assert parsed.gender == ("1" if int(number[16]) % 2 == 1 else "2")


def test_the_example_of_the_standard_is_a_valid_female_number() -> None:
    parsed = parse_citizen_id("11010519491231002X")
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.gender == "2"
    assert parsed.sequence == "002"


def test_spaces_and_a_lower_case_x_are_tidied_before_checking() -> None:
    assert parse_citizen_id(" 110105 19491231 002x ").number == "11010519491231002X"


def test_a_number_from_a_district_abolished_since_is_still_accepted() -> None:
    number = with_check("37080219900101123")
    assert validate_citizen_id(number) == []
    assert parse_citizen_id(number).region_code == "370802"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("1101051949123100", "长度应为 18 位（实际 16 位）"),
        ("110105491231002", "长度应为 18 位（15 位的一代身份证号码已停用，请使用 18 位号码）"),
        ("11010519491231002A", "只能包含数字，最后一位可以是 X"),
        (with_check("99010519491231002"), "前两位 99 不是有效的省级行政区划代码"),
        (with_check("11010519900230002"), "出生日期 19900230 不是有效日期"),
        (with_check("11010520260116002"), "出生日期不能晚于今天（证件号码中为 2026-01-16）"),
        ("", "请填写证件号码"),
    ],
)
def test_a_bad_citizen_id_is_explained_to_the_clerk(number: str, reason: str) -> None:
    assert validate_citizen_id(number, today=TODAY) == [FieldProblem("id_number", reason)]


def test_parsing_a_bad_number_raises_with_every_problem() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_citizen_id("11010519900230002X")
    reasons = [problem.reason for problem in caught.value.fields]
    assert reasons == ["出生日期 19900230 不是有效日期", "校验位错误，应为 8"]


def test_a_birth_date_of_today_is_accepted_and_tomorrow_is_not() -> None:
    today = with_check(f"370811{TODAY:%Y%m%d}001")
    tomorrow = with_check(f"370811{TODAY + timedelta(days=1):%Y%m%d}001")
    assert validate_citizen_id(today, today=TODAY) == []
    assert validate_citizen_id(tomorrow, today=TODAY) != []


def test_birth_date_and_gender_must_agree_with_the_number() -> None:
    problems = validate_document(
        "01", "11010519491231002X", birth_date=date(1949, 12, 30), gender="1"
    )
    assert problems == [
        FieldProblem("birth_date", "出生日期与证件号码不一致（证件号码中为 1949-12-31）"),
        FieldProblem("gender", "性别与证件号码不一致（证件号码中为 女）"),
    ]
    assert validate_document("01", "11010519491231002X", birth_date=date(1949, 12, 31)) == []


@pytest.mark.parametrize(
    ("document_type", "number"),
    [("03", "810000199408230021"), ("03", "820000199408230025"), ("04", "830000199201300022")],
)
def test_residence_permits_of_hong_kong_macau_and_taiwan_residents_are_accepted(
    document_type: str, number: str
) -> None:
    number = with_check(number[:17])
    assert validate_document(document_type, number) == []


def test_a_residence_permit_must_carry_the_prefix_of_its_kind() -> None:
    taiwan = "830000199201300022"
    assert validate_document("03", taiwan) == [
        FieldProblem("id_number", "港澳居民居住证号码应以 810000（香港）或 820000（澳门）开头")
    ]
    assert validate_document("04", with_check("81000019940823002")) == [
        FieldProblem("id_number", "台湾居民居住证号码应以 830000 开头")
    ]


def test_a_residence_permit_entered_as_a_citizen_id_names_the_right_document_type() -> None:
    assert validate_document("01", "810000199408230021") == [
        FieldProblem("id_number", "这是港澳居民居住证号码，证件类型应选港澳居民居住证")
    ]


def test_a_residence_permit_carries_gender_and_birth_date_like_a_citizen_id() -> None:
    problems = validate_document("04", "830000199201300022", gender="1")
    assert problems == [FieldProblem("gender", "性别与证件号码不一致（证件号码中为 女）")]


foreigner_ids = st.builds(
    lambda province, nationality, born, sequence: with_check(
        f"9{province}{nationality:03d}{born:%Y%m%d}{sequence:03d}"
    ),
    provinces,
    st.integers(min_value=1, max_value=999).filter(lambda n: n != 156),
    birth_dates,
    st.integers(min_value=0, max_value=999),
)


@given(foreigner_ids)
def test_every_well_formed_2023_permanent_residence_id_is_accepted(number: str) -> None:
    assert foreigner_id_problems(number, today=TODAY) == []
    parsed = parse_foreigner_id(number, today=TODAY)
    assert parsed.nationality_code == number[3:6]
    assert parsed.gender == ("1" if int(number[16]) % 2 else "2")


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        (with_check("81139819901231002"), "外国人永久居留身份证号码应以 9 开头"),
        (with_check("97139819901231002"), "第 2-3 位 71 不是有效的受理地代码"),
        (
            with_check("91115619901231002"),
            "第 4-6 位国籍代码 156 是中国，持永久居留身份证的应为外国人",
        ),
        (with_check("91139819901331002"), "出生日期 19901331 不是有效日期"),
        ("911398199012310022", "校验位错误，应为 1"),
    ],
)
def test_a_bad_permanent_residence_id_is_explained(number: str, reason: str) -> None:
    assert foreigner_id_problems(number, today=TODAY) == [FieldProblem("id_number", reason)]


def test_a_2017_permanent_residence_id_with_its_icao_check_digit_is_accepted() -> None:
    assert validate_document("02", "KAZ110090123105") == []
    assert validate_document("02", "KAZ110090123107") == [
        FieldProblem("id_number", "校验位错误，应为 5")
    ]


def test_a_permanent_residence_id_entered_as_a_citizen_id_names_the_right_type() -> None:
    reason = "以 9 开头的是外国人永久居留身份证号码，证件类型应选外国人永久居留身份证"
    assert validate_document("01", "911398199012310021") == [FieldProblem("id_number", reason)]


def test_a_permanent_residence_id_carries_birth_date_and_gender() -> None:
    assert validate_document("02", "911398199012310021", birth_date=date(1990, 12, 31)) == []
    problems = validate_document("02", "911398199012310021", gender="1")
    assert problems == [FieldProblem("gender", "性别与证件号码不一致（证件号码中为 女）")]


@pytest.mark.parametrize(
    ("document_type", "good", "bad"),
    [("05", "H12345678", "X12345678"), ("06", "12345678", "1234567"), ("07", "E12345678", "E1")],
)
def test_travel_documents_are_checked_for_their_shape(
    document_type: str, good: str, bad: str
) -> None:
    assert validate_document(document_type, good) == []
    [problem] = validate_document(document_type, bad)
    assert problem.field == "id_number"


def test_an_unknown_document_type_is_named() -> None:
    assert validate_document("99", "11010519491231002X") == [
        FieldProblem("document_type", "证件类型代码 99 不存在，应为 01-07")
    ]


mobiles = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)


@given(mobiles)
def test_every_mainland_mobile_number_is_accepted(number: str) -> None:
    assert validate_mobile(number) == []
    assert validate_mobile(f"+86 {number[:3]}-{number[3:7]}-{number[7:]}") == []


@pytest.mark.parametrize("number", ["12812341234", "1381234123", "138123412345", "1381234123a", ""])
def test_a_number_that_is_not_a_mobile_is_refused(number: str) -> None:
    assert validate_mobile(number) == [FieldProblem("phone", "手机号码应为 11 位数字，以 1 开头")]


def test_full_width_characters_from_a_chinese_input_method_are_read_as_ascii() -> None:
    assert parse_citizen_id("１１０１０５１９４９１２３１００２ｘ").number == "11010519491231002X"
    assert validate_mobile("１３８ １２３４ １２３４") == []
