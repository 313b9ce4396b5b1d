"""Pure rules of consumer payments: the goods category of a merchant's trade, the Beijing
day a limit counts in, and how a 19-digit code is shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Final

BEIJING: Final = timezone(timedelta(hours=8))
CATEGORY_BY_MCC: Final = {
    "5912": "medicine",
    "8011": "medical",
    "8021": "medical",
    "8062": "medical",
    "8099": "medical",
    "4111": "transit",
    "4121": "transit",
    "4131": "transit",
    "4784": "transit",
    "7523": "transit",
    "5311": "retail",
    "5411": "retail",
    "5812": "retail",
    "5814": "retail",
    "5942": "retail",
    "5999": "retail",
    "9211": "contribution",
    "9222": "contribution",
    "9311": "contribution",
    "9399": "contribution",
}
"""ISO 18245 code -> the order category (goods); anything else is ``other``."""


def category(mcc: str) -> str:
    """The order category of a merchant's trade."""
    return CATEGORY_BY_MCC.get(mcc, "other")


def day_start(now: datetime) -> datetime:
    """The start (in UTC) of the Beijing day ``now`` falls in: limits count per such day."""
    local = now.astimezone(BEIJING)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def grouped(code: str) -> str:
    """19 digits as a cashier reads them: 4 4 4 4 3."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))
