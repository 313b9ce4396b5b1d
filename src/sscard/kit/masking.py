"""Masking of personal data wherever it is shown or logged.

Every helper is pure, accepts ``None`` (giving ``""``) and values too short for the usual
pattern (giving only asterisks, so that a short value is never shown in full). A masked value
keeps the length of the original except for addresses, whose tail is a fixed ``****``.
"""

from __future__ import annotations

import re

STAR = "*"

_LONG_NUMBER = re.compile(r"(?<![0-9])[0-9]{14,18}[0-9Xx](?![0-9])")
"""15 to 19 characters: old and new citizen ID numbers, bank card numbers."""

_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
"""Mainland mobile numbers (11 digits starting 13-19)."""


def _keep(value: str | None, head: int, tail: int) -> str:
    if not value:
        return ""
    if len(value) <= head + tail:
        return STAR * len(value)
    return value[:head] + STAR * (len(value) - head - tail) + value[len(value) - tail :]


def mask_id_number(value: str | None) -> str:
    """``37080219900101123X`` -> ``370802********123X`` (first 6 and last 4 kept)."""
    return _keep(value, 6, 4)


def mask_name(value: str | None) -> str:
    """``张三`` -> ``张*``, ``阿卜杜·热合曼`` -> ``阿******``: only the first character stays."""
    if not value:
        return ""
    if len(value) == 1:
        return STAR
    return value[0] + STAR * (len(value) - 1)


def mask_phone(value: str | None) -> str:
    """``13812341234`` -> ``138****1234``."""
    return _keep(value, 3, 4)


def mask_card_number(value: str | None) -> str:
    """Social security card number ``A12345678`` -> ``A1*****78``; longer numbers keep 6+4."""
    if value and len(value) > 12:
        return _keep(value, 6, 4)
    return _keep(value, 2, 2)


def mask_bank_account(value: str | None) -> str:
    """``6217001234567890123`` -> ``621700*********0123`` (first 6 and last 4 kept)."""
    return _keep(value, 6, 4)


def mask_address(value: str | None) -> str:
    """``山东省济宁市任城区古槐路1号`` -> ``山东省济宁市****`` (at most half of a short one)."""
    if not value:
        return ""
    return value[: min(6, len(value) // 2)] + STAR * 4


def mask_text(text: str | None) -> str:
    """Mask every ID number, bank card number and mobile number found in free text."""
    if not text:
        return ""
    masked = _LONG_NUMBER.sub(lambda m: _keep(m.group(0), 6, 4), text)
    return _MOBILE.sub(lambda m: _keep(m.group(0), 3, 4), masked)
