import pytest
from hypothesis import given
from hypothesis import strategies as st

from sscard.errors import FieldProblem
from sscard.registry.identifiers import (
    credit_code_check_character,
    organisation_code_check_character,
    validate_credit_code,
)

CHARACTERS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUE = {c: n for n, c in enumerate(CHARACTERS)}


def gb32100_check(first17: str) -> str:
    """The c making (sum of v * 3^i mod 31 over the first 17) + c divisible by 31."""
    total = sum(VALUE[c] * pow(3, i, 31) for i, c in enumerate(first17))
    return next(c for c in CHARACTERS if (total + VALUE[c]) % 31 == 0)


def gb11714_check(body8: str) -> str:
    """The value c in 0..10 with (sum of v * 2^(9-i) mod 11) + c divisible by 11; 10 is X."""
    total = sum(int(c, 36) * pow(2, 8 - i, 11) for i, c in enumerate(body8))
    value = next(c for c in range(11) if (total + c) % 11 == 0)
    return "X" if value == 10 else str(value)


org_bodies = st.text(alphabet=CHARACTERS, min_size=8, max_size=8)
credit_codes = st.builds(
    lambda head, region, body: (lambda first17: first17 + gb32100_check(first17))(
        head + region + body + gb11714_check(body)
    ),
    st.sampled_from(["91", "92", "93", "12", "11", "51", "52", "Y1"]),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    org_bodies,
)


@given(st.text(alphabet=CHARACTERS, min_size=17, max_size=17))
def test_the_credit_code_check_agrees_with_the_modular_definition(first17: str) -> None:
    assert credit_code_check_character(first17) == gb32100_check(first17)


@given(org_bodies)
def test_the_organisation_code_check_agrees_with_the_modular_definition(body: str) -> None:
    assert organisation_code_check_character(body) == gb11714_check(body)


@given(credit_codes)
def test_every_code_with_both_check_characters_right_is_accepted(code: str) -> None:
    assert validate_credit_code(code) == []
    assert validate_credit_code(code.lower()) == []


@given(credit_codes, st.sampled_from(CHARACTERS))
def test_a_wrong_final_character_is_refused_with_the_right_one_named(code: str, wrong: str) -> None:
    if wrong == code[-1]:
        return
    assert validate_credit_code(code[:-1] + wrong) == [
        FieldProblem("credit_code", f"校验位错误，应为 {code[-1]}")
    ]


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000802100433B"])
def test_published_codes_pass_both_checks(code: str) -> None:
    assert validate_credit_code(code) == []


def test_a_wrong_organisation_code_check_is_named_even_when_the_final_check_fits() -> None:
    first17 = "91350100M000100Y5"
    code = first17 + gb32100_check(first17)
    assert validate_credit_code(code) == [
        FieldProblem("credit_code", "第 9-17 位组织机构代码的校验位错误，第 17 位应为 4")
    ]


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y4", "统一社会信用代码应为 18 位（实际 17 位）"),
        ("91350100M000100O43", "统一社会信用代码只能包含数字和大写字母（不含 I、O、Z、S、V）"),
        ("", "请填写统一社会信用代码"),
    ],
)
def test_a_malformed_credit_code_is_explained(code: str, reason: str) -> None:
    assert validate_credit_code(code) == [FieldProblem("credit_code", reason)]


def test_the_region_part_of_a_credit_code_must_be_digits() -> None:
    first16 = "9135A100M000100Y"
    first17 = first16 + gb11714_check("M000100Y")
    problems = validate_credit_code(first17 + gb32100_check(first17))
    assert problems == [FieldProblem("credit_code", "第 3-8 位（登记管理机关行政区划码）应为数字")]


def test_a_code_typed_in_full_width_or_lower_case_is_read_as_written_on_the_licence() -> None:
    assert validate_credit_code("９１３５０１００ｍ０００１００ｙ４３") == []
