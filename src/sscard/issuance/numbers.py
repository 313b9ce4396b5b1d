"""Card numbers and card identification codes (pure).

- Card number (卡号): 9 characters, a region's prefix (1 to 4 characters) followed by a
  zero-padded serial from one of the region's ranges (``issuance_number_range``); a number
  is handed out once and never again.
- Card identification code (卡识别码): 32 characters, documented in docs/formats.md:
  ``RRRRRR`` issuing region (GB/T 2260) + ``156`` country + ``G`` card generation +
  ``VVVV`` vendor code + ``YYYY`` year of personalisation + 12-digit serial + 2 check
  digits (ISO/IEC 7064 MOD 97-10 over the first 30 characters, letters counted A=10 ...
  Z=35, as IBANs do): every single wrong character and every swap of two neighbours is
  caught.
"""

from __future__ import annotations

import re

from sscard.errors import FieldProblem

CARD_NUMBER_LENGTH = 9
_CARD_NUMBER = re.compile(r"^[A-Z0-9]{9}$")
_CARD_ID_CODE = re.compile(r"^(\d{6})156([23])([0-9A-Z]{4})(\d{4})(\d{12})(\d{2})$")


def card_number(prefix: str, serial: int) -> str:
    """``prefix`` + serial zero-padded to 9 characters in all."""
    width = CARD_NUMBER_LENGTH - len(prefix)
    text = str(serial).zfill(width)
    if len(text) > width:
        raise ValueError(f"serial {serial} does not fit after prefix {prefix!r}")
    return prefix + text


def card_number_problems(value: str, *, field: str = "card_number") -> list[FieldProblem]:
    if not _CARD_NUMBER.match(value):
        return [FieldProblem(field, "卡号应为 9 位大写字母或数字")]
    return []


def card_id_check(first30: str) -> str:
    """ISO/IEC 7064 MOD 97-10 check digits of ``first30`` (digits and capital letters)."""
    number = int("".join(str(int(c, 36)) for c in first30))
    return f"{98 - (number * 100) % 97:02d}"


def make_card_id_code(
    *, region_code: str, generation: int, vendor_code: str, year: int, serial: int
) -> str:
    """A card identification code as a vendor personalises it."""
    first30 = f"{region_code}156{generation}{vendor_code}{year:04d}{serial:012d}"
    return first30 + card_id_check(first30)


def card_id_code_problems(
    value: str, *, region_code: str | None = None, field: str = "card_id_code"
) -> list[FieldProblem]:
    """Problems of a card identification code (shape, check, issuing region)."""
    match = _CARD_ID_CODE.match(value)
    if not match:
        return [
            FieldProblem(
                field, "卡识别码应为 32 位：地区码6位+156+代别+卡商码4位+年份+序号12位+校验2位"
            )
        ]
    if card_id_check(value[:30]) != value[30:]:
        return [FieldProblem(field, "卡识别码校验位错误")]
    if region_code is not None and match.group(1) != region_code:
        return [
            FieldProblem(field, f"卡识别码的发卡地区 {match.group(1)} 与本卡 {region_code} 不符")
        ]
    return []
