import pytest
from hypothesis import given
from hypothesis import strategies as st

from sscard.kit.masking import (
    mask_address,
    mask_bank_account,
    mask_card_number,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_text,
)

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
id_numbers = st.builds(
    lambda body, check: body + check,
    st.text(alphabet="0123456789", min_size=17, max_size=17),
    st.sampled_from("0123456789X"),
)
mobiles = st.builds(
    lambda second, rest: "1" + second + rest,
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)
no_digits = st.text(alphabet=st.characters(blacklist_categories=("Nd", "Cs")), max_size=20)


@pytest.mark.parametrize(
    ("function", "value", "masked"),
    [
        (mask_id_number, "37080219900101123X", "370802********123X"),
        (mask_id_number, "370802900101123", "370802*****1123"),
        (mask_name, "张三", "张*"),
        (mask_name, "欧阳娜娜", "欧***"),
        (mask_name, "阿卜杜·热合曼", "阿******"),
        (mask_name, "张", "*"),
        (mask_phone, "13812341234", "138****1234"),
        (mask_card_number, "A12345678", "A1*****78"),
        (mask_card_number, "6217001234567890123", "621700*********0123"),
        (mask_bank_account, "6217001234567890123", "621700*********0123"),
        (mask_address, "山东省济宁市任城区古槐路1号", "山东省济宁市****"),
        (mask_address, "济宁市", "济****"),
    ],
)
def test_each_kind_of_personal_data_is_masked_as_shown_at_the_counter(
    function, value, masked
) -> None:
    assert function(value) == masked


@pytest.mark.parametrize(
    "function",
    [mask_id_number, mask_name, mask_phone, mask_card_number, mask_bank_account, mask_address],
)
def test_missing_values_give_an_empty_string(function) -> None:
    assert function(None) == ""
    assert function("") == ""


@pytest.mark.parametrize(
    ("function", "value"),
    [(mask_id_number, "3708021"), (mask_phone, "1381234"), (mask_bank_account, "621700")],
)
def test_a_value_too_short_for_the_pattern_is_hidden_entirely(function, value) -> None:
    assert function(value) == "*" * len(value)


def test_free_text_has_its_id_numbers_and_mobile_numbers_masked() -> None:
    line = "申请人 37080219900101123X 电话13812341234，卡 6217001234567890123 订单 12345"
    assert mask_text(line) == (
        "申请人 370802********123X 电话138****1234，卡 621700*********0123 订单 12345"
    )
    assert mask_text(None) == ""


def test_numbers_that_are_neither_id_nor_mobile_stay_readable() -> None:
    assert mask_text("order 202611250001 amount 12800") == "order 202611250001 amount 12800"
    assert mask_text("landline 05372345678") == "landline 05372345678"


def _with_middle(value: str, head: int, tail: int, middle: str) -> str:
    """``value`` with its masked middle replaced by other digits of the same length."""
    return value[:head] + middle[: len(value) - head - tail] + value[len(value) - tail :]


other_middles = st.text(alphabet="0123456789", min_size=9, max_size=9)


@given(id_numbers, other_middles)
def test_a_masked_id_number_never_shows_its_middle_digits(value: str, other: str) -> None:
    masked = mask_id_number(value)
    assert len(masked) == 18
    assert masked[6:14] == "********"
    assert mask_id_number(_with_middle(value, 6, 4, other)) == masked


@given(mobiles, other_middles)
def test_a_masked_phone_never_shows_its_middle_digits(value: str, other: str) -> None:
    masked = mask_phone(value)
    assert masked[3:7] == "****"
    assert mask_phone(_with_middle(value, 3, 4, other)) == masked


@given(st.text(alphabet="0123456789", min_size=11, max_size=19), other_middles)
def test_a_masked_account_never_shows_its_middle_digits(value: str, other: str) -> None:
    masked = mask_bank_account(value)
    assert masked[6:-4] == "*" * (len(value) - 10)
    assert mask_bank_account(_with_middle(value, 6, 4, other * 2)) == masked


@given(st.text(min_size=1, max_size=30))
def test_a_masked_name_shows_at_most_its_first_character(value: str) -> None:
    masked = mask_name(value)
    assert len(masked) == len(value)
    assert set(masked[1:]) <= {"*"}


@given(no_digits, id_numbers, no_digits, mobiles, no_digits, other_middles)
def test_masked_text_never_shows_the_middle_digits_of_what_it_contains(
    before: str, id_number: str, between: str, mobile: str, after: str, other: str
) -> None:
    masked = mask_text(f"{before}{id_number}{between} {mobile}{after}")
    changed = f"{before}{_with_middle(id_number, 6, 4, other)}{between} "
    changed += f"{_with_middle(mobile, 3, 4, other)}{after}"
    assert mask_text(changed) == masked
    assert "********" in masked and "****" in masked
    assert before in masked and after in masked
