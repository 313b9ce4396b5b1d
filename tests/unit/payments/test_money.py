import pytest
from hypothesis import given
from hypothesis import strategies as st

from sscard.payments.codes import mcc, money
from sscard.payments.codes.errors import CodeRefused


@given(st.integers(min_value=0, max_value=money.MAX_FEN))
def test_fen_round_trip_through_yuan_text_with_two_decimals(fen: int) -> None:
    text = money.fen_to_yuan(fen)
    assert text.count(".") == 1 and len(text.split(".")[1]) == 2
    assert money.yuan_to_fen(text) == fen


@pytest.mark.parametrize(
    ("text", "fen"), [("12.30", 1230), ("12.3", 1230), ("12", 1200), ("0.01", 1), ("0", 0)]
)
def test_yuan_text_with_up_to_two_decimals_reads_as_fen(text: str, fen: int) -> None:
    assert money.yuan_to_fen(text) == fen


@pytest.mark.parametrize(
    "text", ["12.345", "-1.00", "+1", "1e3", "01.00", "1,000.00", " 1", "1.", ".5", "", "一元"]
)
def test_yuan_text_that_is_not_plain_yuan_is_refused_as_a_bad_amount(text: str) -> None:
    with pytest.raises(CodeRefused) as refused:
        money.yuan_to_fen(text)
    assert refused.value.reason == "bad_amount"


def test_floats_and_booleans_are_refused_by_type_in_both_directions() -> None:
    for value in (12.3, True):
        with pytest.raises(CodeRefused, match="bad_amount"):
            money.fen_to_yuan(value)  # type: ignore[arg-type]
    with pytest.raises(CodeRefused, match="浮点"):
        money.yuan_to_fen(12.3)


def test_negative_and_over_the_limit_amounts_are_refused_with_the_reason() -> None:
    with pytest.raises(CodeRefused, match="负数"):
        money.fen_to_yuan(-1)
    with pytest.raises(CodeRefused, match="上限"):
        money.fen_to_yuan(money.MAX_FEN + 1)
    with pytest.raises(CodeRefused, match="上限 5.00"):
        money.yuan_to_fen("5.01", limit=500)
    assert money.yuan_to_fen("5.00", limit=500) == 500


def test_only_the_renminbi_is_a_known_currency() -> None:
    assert money.currency("156").alpha == "CNY"
    with pytest.raises(CodeRefused) as refused:
        money.currency("840")
    assert refused.value.reason == "unknown_currency"


def test_the_categories_of_the_platforms_merchants_have_chinese_names() -> None:
    for code in ("5912", "8062", "8011", "4111", "4121", "7996", "7991", "9399"):
        assert mcc.mcc_name(code)
    assert mcc.mcc_name("5912") == "药店"
    with pytest.raises(CodeRefused, match="unknown_mcc"):
        mcc.mcc_name("0000")
