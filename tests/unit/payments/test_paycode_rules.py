"""Pure rules of consumer payments: the order category of a trade, the Beijing day a limit
counts in, the grouped digits of a payment code."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from sscard.payments.codes.mcc import MCC_NAMES
from sscard.payments.paycodes import rules


def test_trades_map_to_the_order_categories_and_unknown_ones_to_other() -> None:
    assert [rules.category(m) for m in ("5912", "8062", "4111", "5411", "9399", "7996")] == [
        "medicine",
        "medical",
        "transit",
        "retail",
        "contribution",
        "other",
    ]
    assert set(rules.CATEGORY_BY_MCC) <= set(MCC_NAMES)


def test_the_day_starts_at_midnight_beijing_time_which_is_16_00_utc_the_day_before() -> None:
    late_utc = datetime(2026, 12, 4, 17, 30, tzinfo=UTC)  # 01:30 on 5 December in Beijing
    assert rules.day_start(late_utc) == datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
    early_utc = datetime(2026, 12, 4, 15, 59, tzinfo=UTC)  # 23:59 on 4 December in Beijing
    assert rules.day_start(early_utc) == datetime(2026, 12, 3, 16, 0, tzinfo=UTC)


@given(st.text(alphabet="0123456789", min_size=19, max_size=19))
def test_grouped_digits_read_back_as_the_code(code: str) -> None:
    shown = rules.grouped(code)
    assert shown.replace(" ", "") == code
    assert [len(part) for part in shown.split(" ")] == [4, 4, 4, 4, 3]
