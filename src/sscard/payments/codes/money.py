"""Money at the edges: integer fen (分) <-> yuan text ("12.30"), and the currency (GB/T 12406).

Fen are the only amounts inside the platform. Yuan text has digits, an optional point and at
most two decimals; no sign, no exponent, no thousands separators. Floats are refused by type
(0.1 + 0.2 is not 0.3 in binary), and so are booleans (``True`` is an ``int`` in Python).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from sscard.payments.codes.errors import CodeRefused

MAX_FEN: Final = 999_999_999_999
"""The largest amount: 9,999,999,999.99 yuan, the 13 characters an EMVCo amount may hold."""

_YUAN = re.compile(r"(0|[1-9]\d*)(\.\d{1,2})?")


@dataclass(frozen=True, slots=True)
class Currency:
    numeric: str
    """GB/T 12406 (ISO 4217) numeric code: what EMVCo tag 53 carries."""
    alpha: str
    name: str
    minor_units: int


CNY: Final = Currency(numeric="156", alpha="CNY", name="人民币", minor_units=2)
CURRENCIES: Final = {CNY.numeric: CNY}
"""The currencies the platform settles in (only the renminbi)."""


def currency(numeric: str) -> Currency:
    """The currency of a numeric code, or CodeRefused(unknown_currency)."""
    found = CURRENCIES.get(numeric)
    if found is None:
        raise CodeRefused("unknown_currency", f"币种代码 {numeric[:8]} 不受理，只受理人民币（156）")
    return found


def check_fen(fen: object, *, limit: int = MAX_FEN) -> int:
    """``fen`` as an int amount, or CodeRefused(bad_amount) naming why."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise CodeRefused("bad_amount", "金额须为整数（分），不接受小数或其他类型")
    if fen < 0:
        raise CodeRefused("bad_amount", "金额不能为负数")
    if fen > limit:
        raise CodeRefused("bad_amount", f"金额超过上限 {fen_to_yuan(limit)} 元")
    return fen


def fen_to_yuan(fen: int, *, limit: int = MAX_FEN) -> str:
    """1230 -> "12.30"; always two decimals."""
    amount = check_fen(fen, limit=max(limit, 0))
    return f"{amount // 100}.{amount % 100:02d}"


def yuan_to_fen(text: object, *, limit: int = MAX_FEN) -> int:
    """ "12.3" -> 1230; refuses anything but plain yuan text with at most two decimals."""
    if not isinstance(text, str):
        raise CodeRefused("bad_amount", "金额须为文本形式的元（如 12.30），不接受浮点数")
    if not _YUAN.fullmatch(text):
        if text.startswith("-"):
            raise CodeRefused("bad_amount", "金额不能为负数")
        raise CodeRefused("bad_amount", "金额格式不对：应为元，最多两位小数（如 12.30）")
    whole, _, decimals = text.partition(".")
    if len(whole) > 13:
        raise CodeRefused("bad_amount", f"金额超过上限 {fen_to_yuan(limit)} 元")
    return check_fen(int(whole) * 100 + int(decimals.ljust(2, "0")), limit=limit)
