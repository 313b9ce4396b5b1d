"""Which adjusting transfer resolves a difference (pure). Documented in docs/payments.md.

What each side moved counts only when done: ``ours`` and ``theirs`` below are the amounts
with status done (0 otherwise) and ``delta = theirs - ours``. The other party's account is
``bank-clearing:<bank>`` for a bank's file and ``acquirer-clearing`` for the acquirer's.

- a payment (debit) the other party took more for than we booked (``delta > 0``): it owes us
  the difference: other party -> ``suspense``;
- a payment we booked more for (``delta < 0``): the merchant was credited for money that
  did not arrive: ``merchant:<code>`` -> ``suspense``;
- a refund (credit), mirrored: ``delta > 0``: ``suspense`` -> other party; ``delta < 0``:
  ``suspense`` -> ``merchant:<code>``.

The suspense account (挂账) holds the money until it is cleared by hand (a refund to the
holder, a claim on the bank); without a known merchant, the other party's account stands in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sscard.payments.clearing.rules import DEBIT, DONE


@dataclass(frozen=True, slots=True)
class Adjustment:
    debit_account: str
    credit_account: str
    amount: int


def counterparty(source: str, party: str) -> str:
    return f"bank-clearing:{party}" if source == "bank" else "acquirer-clearing"


def adjustment(
    *,
    direction: str,
    source: str,
    party: str,
    merchant: str | None,
    ours: tuple[int | None, str | None],
    theirs: tuple[int | None, str | None],
) -> Adjustment | None:
    """The transfer that brings our books to the other party's figure (None: nothing)."""
    mine = (ours[0] or 0) if ours[1] == DONE else 0
    their = (theirs[0] or 0) if theirs[1] == DONE else 0
    delta = their - mine
    if delta == 0:
        return None
    other = counterparty(source, party)
    own = f"merchant:{merchant}" if merchant else other
    if direction == DEBIT:
        debit, credit = (other, "suspense") if delta > 0 else (own, "suspense")
    else:
        debit, credit = ("suspense", other) if delta > 0 else ("suspense", own)
    if debit == credit:
        return None
    return Adjustment(debit, credit, abs(delta))
