"""The cash part of a medical bill at the card's bank (个人现金), through the bank adapter.

The bank's answer is one of ``done``, ``refused`` (with its reason) or ``unknown`` (no
answer: the bank is asked again later by :func:`status`, with the same reference).
"""

from __future__ import annotations

from dataclasses import dataclass

from sscard.exchange.peers import service as peers_service


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
    """Ask the bank to debit the cash part; its answer."""
    try:
        answer = peers_service.bank_debit(
            bank_code=data.bank_code,
            card_number=data.card_number,
            account=data.account,
            amount_fen=data.amount_fen,
            ref=data.ref,
        )
    except peers_service.PEER_REFUSALS as refused:
        return Outcome("refused", str(getattr(refused, "reason", "") or refused))
    except peers_service.PEER_OUTAGES:
        return Outcome("unknown")
    return Outcome(str(answer.status), str(getattr(answer, "reason", "") or ""))


def credit(data: Debit) -> None:
    """Credit the cash back to the card's account (a refund); raises the bank's refusal."""
    peers_service.bank_credit(
        bank_code=data.bank_code,
        card_number=data.card_number,
        account=data.account,
        amount_fen=data.amount_fen,
        ref=data.ref,
    )


def status(*, bank_code: str, ref: str) -> Outcome:
    """What the bank did with a debit whose answer was lost."""
    try:
        answer = peers_service.bank_payment_status(bank_code=bank_code, ref=ref)
    except peers_service.PEER_OUTAGES:
        return Outcome("unknown")
    return Outcome(str(answer.status), str(getattr(answer, "reason", "") or ""))
