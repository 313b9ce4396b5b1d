"""Three-way matching (三方对账), pure: our books against one sender's daily file.

Each side is keyed by the reference the bank and the acquirer see: the order number for a
payment (debit), ``ref:<refund_no>`` for a refund (credit). A record that moved no money on
either side (refused or absent there, refused, pending or absent here) is no difference:

- ``ours_only`` (我方有、对方无): our books show it, the file does not;
- ``theirs_only`` (对方有、我方无): the file shows money moved, our books do not;
- ``status_differs`` (状态不符): both know it, one says done and the other not;
- ``amount_differs`` (金额不符): both say done, for different amounts.

The acquirer handles only the payments that reached it, so our side is first narrowed to
the records that sender is expected to list (``expected``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from enum import StrEnum

from sscard.payments.clearing.rules import DONE, Movement
from sscard.payments.recon.dailyfile import Record


class DiffKind(StrEnum):
    ours_only = "ours_only"
    theirs_only = "theirs_only"
    amount_differs = "amount_differs"
    status_differs = "status_differs"


DIFF_NAMES = {
    DiffKind.ours_only: "我方有、对方无",
    DiffKind.theirs_only: "对方有、我方无",
    DiffKind.amount_differs: "金额不符",
    DiffKind.status_differs: "状态不符",
}


@dataclass(frozen=True, slots=True)
class Difference:
    key: str
    kind: DiffKind
    direction: str
    """debit (a payment) or credit (a refund)."""
    merchant: str | None
    bank: str | None
    ours_amount: int | None
    theirs_amount: int | None
    ours_status: str | None
    theirs_status: str | None


def _diff(kind: DiffKind, ours: Movement | None, theirs: Record | None) -> Difference:
    key = ours.key if ours is not None else theirs.ref if theirs is not None else ""
    return Difference(
        key=key,
        kind=kind,
        direction=ours.kind if ours is not None else theirs.kind if theirs else "debit",
        merchant=(ours.merchant if ours else None) or (theirs.merchant if theirs else None) or None,
        bank=ours.bank if ours else None,
        ours_amount=ours.amount if ours else None,
        theirs_amount=theirs.amount if theirs else None,
        ours_status=ours.status if ours else None,
        theirs_status=theirs.status if theirs else None,
    )


def compare(
    ours: MutableMapping[str, Movement],
    theirs: Iterable[Record],
    *,
    expected: Callable[[Movement], bool] = lambda _m: True,
) -> Iterator[Difference]:
    """Every difference between our movements and the sender's records. ``ours`` is used
    up: each movement the sender lists is taken out of it (so a day of a million payments
    is held once, and shrinks as the file is read)."""
    for record in theirs:
        mine = ours.pop(record.ref, None)
        if mine is None:
            if record.status == DONE:
                yield _diff(DiffKind.theirs_only, None, record)
            continue
        if (mine.status == DONE) != (record.status == DONE):
            yield _diff(DiffKind.status_differs, mine, record)
        elif mine.status == DONE and mine.amount != record.amount:
            yield _diff(DiffKind.amount_differs, mine, record)
    for mine in ours.values():
        if mine.status == DONE and expected(mine):
            yield _diff(DiffKind.ours_only, mine, None)
