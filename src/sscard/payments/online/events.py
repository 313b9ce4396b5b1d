"""Facts online banking announces on the in-process bus."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sscard.kit.events import Event


@dataclass(frozen=True, kw_only=True)
class OnlinePaymentConfirmed(Event):
    """A bank's verified notice (or status query) said the order was paid; the order is
    marked paid in the same unit of work."""

    name: ClassVar[str] = "payments.online_payment_confirmed"
    order_no: str
    bank_code: str
    amount_fen: int
