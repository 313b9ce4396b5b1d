"""Pure rules of the cards' records at the province: transfer and the provincial record."""

from __future__ import annotations

import re

from sscard.issuance import lifecycle
from sscard.issuance.lifecycle import HELD, Status


def is_city_code(code: str) -> bool:
    """A city-level GB/T 2260 code: 6 digits, ``XXYY00`` with ``YY`` not ``00``."""
    return bool(re.fullmatch(r"\d{6}", code)) and code[4:] == "00" and code[2:4] != "00"


def transfer_refusal(*, status: Status, from_region: str, to_region: str, here: str) -> str | None:
    """Why a card's management cannot move from ``from_region`` to ``to_region``, or None."""
    if status not in HELD:
        return f"卡片当前状态为“{lifecycle.STATUS_NAMES[status]}”，不能办理地市卡转移"
    if not is_city_code(to_region):
        return "转入地市应为地市级行政区划代码（如 370100）"
    if to_region == from_region:
        return f"该卡已由 {to_region} 管理"
    if here not in (from_region, to_region):
        return "只能转出本市管理的卡，或将外地卡转入本市管理"
    return None


def province_cancel_refusal(
    *, status: Status, managing_region: str, here: str, already: bool
) -> str | None:
    """Why a card's provincial record cannot be cancelled from here, or None."""
    if managing_region != here:
        return f"该卡由 {managing_region} 管理，应由该地市注销省级卡信息"
    if status not in (Status.cancelled, Status.failed):
        name = lifecycle.STATUS_NAMES[status]
        return f"请先注销本地卡片（当前状态“{name}”），再注销省级卡信息"
    if already:
        return "该卡的省级卡信息已注销"
    return None
