"""The cash part of a medical bill at the card's bank (个人现金), through the bank adapter.

The bank's answer is one of ``done``, ``refused`` (with its reason) or ``unknown`` (no
answer: the bank is asked again later by :func:`status`, with the same reference).
"""

from __future__ import annotations

from dataclasses import dataclass

from sscard.exchange.peers import service as peers_service
from sscard.payments.medical.errors import CashRefused


@dataclass(frozen=True)
class Debit:
    """A debit (or, for a refund, a credit) of the card's account; ``ref`` is its key."""

    ref: str
    bank_code: str
    card_number: str
    account: str
    amount_fen: int


@dataclass(frozen=True)
class Outcome:
    status: str
    """done, refused or unknown."""
    reason: str = ""


def debit(data: Debit) -> Outcome:
    """Ask the bank to debit the cash part; its answer (``unknown`` when it did not answer)."""
    try:
        answer = peers_service.bank_debit(
            bank_code=data.bank_code,
            card_number=data.card_number,
            account=data.account,
            amount_fen=data.amount_fen,
            ref=data.ref,
        )
    except peers_service.PEER_OUTAGES:
        return Outcome("unknown")
    return Outcome(answer.status, answer.reason or "")


def credit_back(data: Debit, *, attempts: int = 9) -> None:
    """Credit the cash back to the card's account once (a refund).

    Each try has its own reference (``<ref>1``, ``<ref>2`` ...): a reference the bank already
    applied is not credited again, one it refused is passed over (a refusal stands for its
    reference), the first one it never saw is used. CashRefused if the bank says no."""
    for attempt in range(1, attempts + 1):
        ref = f"{data.ref}{attempt}"
        known = peers_service.bank_payment_status(bank_code=data.bank_code, ref=ref)
        if known.status == "done":
            return
        if known.status == "refused":
            continue
        answer = peers_service.bank_credit(
            bank_code=data.bank_code,
            card_number=data.card_number,
            account=data.account,
            amount_fen=data.amount_fen,
            ref=ref,
        )
        if answer.status == "done":
            return
        raise CashRefused(f"银行未能退回个人现金部分：{answer.reason or answer.status}")
    raise CashRefused("银行多次拒绝退回个人现金部分，请联系银行处理后再退费")


def status(*, bank_code: str, ref: str) -> Outcome:
    """What the bank did with a debit whose answer was lost: done, refused, or (never
    applied) refused as well, so the settlement is undone; unknown while it cannot be asked."""
    try:
        answer = peers_service.bank_payment_status(bank_code=bank_code, ref=ref)
    except peers_service.PEER_OUTAGES:
        return Outcome("unknown")
    if answer.status == "unknown":
        return Outcome("refused", "银行没有收到这笔扣款")
    return Outcome(answer.status, answer.reason or "")
