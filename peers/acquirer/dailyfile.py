"""The acquirer's daily file (收单日终对账文件): what it forwarded for a clearing day.

:func:`daily_file` writes the file (layout in docs/formats.md, "payments: daily files") from
the acquirer's own records: one per payment or refund it handled, keyed by the platform's
order number (or ``ref:<refund_no>``), with the merchant code it saw.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sscard.payments.recon import dailyfile


@dataclass(frozen=True, slots=True)
class Forwarded:
    """One payment (debit) or refund (credit) the acquirer forwarded, as it recorded it."""

    ref: str
    merchant_code: str
    amount_fen: int
    status: str
    at: datetime
    kind: str = "debit"


def daily_file(acquirer_code: str, day: date, forwarded: Iterable[Forwarded]) -> bytes:
    """The acquirer's daily file for ``day`` from the records given (in that order)."""
    return dailyfile.write(
        dailyfile.Header("acquirer", acquirer_code, day),
        (
            dailyfile.Record(
                f.ref, f.kind, f.amount_fen, f.status, dailyfile.utc_text(f.at), f.merchant_code
            )
            for f in forwarded
        ),
    )
