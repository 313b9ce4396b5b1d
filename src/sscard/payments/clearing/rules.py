"""Clearing rules (pure: no database, no clock of its own).

Design overview
---------------
*Clearing day* (清算日): the daily cut-off (日切, ``SSCARD_PAY_CUTOFF``, Beijing time, 23:00 by
default) ends a day. Clearing day D runs from the cut-off of D-1 (included) to the cut-off of
D (excluded); a payment belongs to the day in which its money moved in the ledger.

*What our books show* (:func:`fold`): the payment legs the orders part posts (see
docs/payments.md) are folded into one :class:`Movement` per order or refund:

- ``pay:<order_no>:b`` pending (intent), ``...:b:post`` done, ``...:b:void`` refused;
  ``pay:<order_no>:m`` / ``...:m:post`` name the merchant;
- ``pay:<order_no>:w`` (an order paid on the bank's pay page, 网银): bank -> merchant, done;
- ``med:<number>:b`` / ``:b:post`` / ``:b:void`` and ``med:<number>:m``: the cash part (个人现金)
  of a medical settlement, keyed by its number as the bank sees it (the pooled fund's and
  the personal account's parts never pass a bank);
- ``ref:<refund_no>:m`` (merchant -> card) and ``ref:<refund_no>:b`` (card -> bank), both
  done, keyed ``ref:<refund_no>`` as the bank keys the credit;
- ``ref:<refund_no>:w`` (a refund of an order paid on the bank's pay page, 网银支付退款):
  merchant -> bank, done, one leg naming both.

*Fee* (手续费) of a merchant for a day: ``net x fee_rate_bp / 10000`` where net = payments
minus refunds, rounded half up to the fen (an exact half fen rounds up); no fee when the net
is not positive. *Settlement* (结算): net minus fee, paid out when positive; a negative net
stays on the merchant's account and is netted on a later day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sscard.db import CHINA_TZ

DEBIT, CREDIT = "debit", "credit"
"""A payment debits the card (at the bank); a refund credits it."""
DONE, REFUSED, PENDING = "done", "refused", "pending"

Row = tuple[str, str, str, str, int]
"""ref, kind, debit account code, credit account code, amount (as the ledger streams them)."""


def parse_cutoff(text: str) -> time:
    """``"23:00"`` -> 23:00 (the setting is checked when read)."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def window(day: date, cutoff: time) -> tuple[datetime, datetime]:
    """The UTC instants ``[start, end)`` of clearing day ``day``."""
    end = datetime.combine(day, cutoff, tzinfo=CHINA_TZ)
    if cutoff == time(0, 0):
        end += timedelta(days=1)
    return end - timedelta(days=1), end


def clearing_day(at: datetime, cutoff: time) -> date:
    """The clearing day an instant belongs to."""
    local = at.astimezone(CHINA_TZ)
    day = local.date()
    if cutoff != time(0, 0) and local.time() >= cutoff:
        day += timedelta(days=1)
    return day


def fee(net_fen: int, fee_rate_bp: int) -> int:
    """The fee on a net amount, rounded half up to the fen (0 when net is not positive)."""
    if net_fen <= 0:
        return 0
    return (net_fen * fee_rate_bp + 5_000) // 10_000


@dataclass(slots=True)
class Movement:
    """One order or refund as our ledger shows it."""

    key: str
    kind: str
    amount: int
    status: str
    bank: str | None = None
    merchant: str | None = None


class _Suffixes(dict[str, str]):
    """Account code -> what follows its kind (one string per account, however many rows)."""

    def __missing__(self, code: str) -> str:
        self[code] = found = code.partition(":")[2]
        return found


def _apply(
    m: Movement, leg: str, stage: str, debit: str, credit: str, amount: int, _suffix: _Suffixes
) -> None:
    if m.kind == DEBIT and leg == "b":
        m.bank = _suffix[debit]
        m.amount = amount
        m.status = {"": PENDING, "post": DONE, "void": REFUSED}.get(stage, m.status)
    elif m.kind == DEBIT and leg == "w":
        m.bank, m.merchant, m.amount, m.status = _suffix[debit], _suffix[credit], amount, DONE
    elif m.kind == DEBIT:
        m.merchant = _suffix[credit]
    elif leg == "b":
        m.bank, m.amount = _suffix[credit], amount
    elif leg == "w":
        m.merchant, m.bank, m.amount = _suffix[debit], _suffix[credit], amount
    else:
        m.merchant, m.amount = _suffix[debit], amount


def fold(rows: Iterable[Row]) -> dict[str, Movement]:
    """Fold payment and refund legs into one movement per order number or refund."""
    found: dict[str, Movement] = {}
    suffixes = _Suffixes()
    for ref, _kind, debit, credit, amount in rows:
        head, _, rest = ref.partition(":")
        number, _, tail = rest.partition(":")
        leg, _, stage = tail.partition(":")
        if head in ("pay", "med"):
            key, kind = number, DEBIT
        elif head == "ref":
            key, kind = f"ref:{number}", CREDIT
        else:
            continue
        if leg not in ("b", "m", "w") or stage not in ("", "post", "void"):
            continue
        m = found.get(key)
        if m is None:
            m = found[key] = Movement(key, kind, amount, DONE if kind == CREDIT else PENDING)
        _apply(m, leg, stage, debit, credit, amount, suffixes)
    return found


@dataclass(frozen=True, slots=True)
class PartyTotals:
    """What one merchant or bank did in a day, in fen."""

    party: str
    pay_count: int = 0
    pay_fen: int = 0
    refund_count: int = 0
    refund_fen: int = 0

    @property
    def net_fen(self) -> int:
        return self.pay_fen - self.refund_fen


def totals(movements: Iterable[Movement], *, by: str) -> dict[str, PartyTotals]:
    """Done movements summed per merchant (``by="merchant"``) or per bank (``"bank"``)."""
    sums: dict[str, list[int]] = {}
    for m in movements:
        party = m.merchant if by == "merchant" else m.bank
        if m.status != DONE or party is None:
            continue
        s = sums.setdefault(party, [0, 0, 0, 0])
        offset = 0 if m.kind == DEBIT else 2
        s[offset] += 1
        s[offset + 1] += m.amount
    return {p: PartyTotals(p, *s) for p, s in sorted(sums.items())}
