"""The ledger's pure rules: account codes, the effect of each kind of transfer, overdraw,
pending resolution, and the replay (with a property test over random transfers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sscard.payments.ledger import rules
from sscard.payments.ledger.rules import (
    AccountKind,
    AccountState,
    PendingFacts,
    Totals,
    TransferFacts,
    TransferKind,
)
from sscard.payments.ledger.schemas import TransferIn

NOW = datetime(2026, 12, 4, 5, 0, tzinfo=UTC)


def _account(
    account_id: int, *, no_overdraw: bool = False, totals: Totals | None = None
) -> AccountState:
    return AccountState(
        account_id, f"card:{account_id}", 156, no_overdraw, False, totals or Totals()
    )


def test_account_codes_name_their_kind_and_malformed_ones_are_rejected() -> None:
    assert rules.kind_of_code("merchant:M001") is AccountKind.merchant
    assert rules.kind_of_code("bank-clearing:ICBC") is AccountKind.bank_clearing
    assert rules.kind_of_code("fee-income") is AccountKind.fee_income
    assert rules.kind_of_code("fee-income:x") is None
    assert rules.kind_of_code("card:") is None
    assert rules.kind_of_code("card:有空格 ") is None
    assert rules.kind_of_code("wallet:1") is None


def test_a_partial_post_releases_the_whole_pending_amount_and_posts_what_it_names() -> None:
    debit, credit = rules.effect(TransferKind.post_pending, 600, 800)
    assert debit == Totals(debits_pending=-800, debits_posted=600)
    assert credit == Totals(credits_pending=-800, credits_posted=600)
    assert rules.effect(TransferKind.void_pending, 800, 800)[0] == Totals(debits_pending=-800)


def test_a_no_overdraw_account_counts_pending_debits_against_its_credits() -> None:
    account = _account(1, no_overdraw=True)
    assert rules.overdraw_reason(account, Totals(0, 0, 0, 100)) is None
    assert rules.overdraw_reason(account, Totals(1, 100, 0, 100)) is not None
    assert rules.overdraw_reason(_account(2), Totals(0, 500, 0, 100)) is None


def test_a_transfer_needs_a_positive_amount_two_accounts_and_one_currency() -> None:
    a, b = _account(1), _account(2)
    assert rules.transfer_problem(a, b, 1) is None
    assert rules.transfer_problem(a, b, 0) is not None
    assert rules.transfer_problem(a, a, 1) is not None
    dollars = AccountState(3, "suspense", 840, False, False, Totals())
    assert rules.transfer_problem(a, dollars, 1) is not None


def test_a_pending_transfer_is_posted_at_most_its_amount_before_its_timeout() -> None:
    pending = PendingFacts(9, "hold", 1, 2, 800, NOW + timedelta(seconds=30), False)

    def problem(kind: TransferKind, amount: int, now: datetime = NOW) -> str | None:
        return rules.resolution_problem(
            kind, pending, debit_account_id=1, credit_account_id=2, amount=amount, now=now
        )

    assert problem(TransferKind.post_pending, 800) is None
    assert problem(TransferKind.post_pending, 801) is not None
    assert problem(TransferKind.post_pending, 1, NOW + timedelta(minutes=1)) is not None
    assert problem(TransferKind.void_pending, 800, NOW + timedelta(minutes=1)) is None
    assert problem(TransferKind.void_pending, 799) is not None


@st.composite
def ledgers(draw: st.DrawFn) -> list[TransferFacts]:
    """Random transfers among a few accounts, each pending resolved at most once, applied
    only when the no-overdraw accounts (ids 0 and 1) keep their flag."""
    accounts = {i: _account(i, no_overdraw=i < 2) for i in range(5)}
    open_pending: dict[int, TransferFacts] = {}
    made: list[TransferFacts] = []
    for next_id in range(draw(st.integers(0, 60))):
        kind = draw(st.sampled_from(list(TransferKind)))
        if kind in rules.RESOLUTIONS:
            if not open_pending:
                continue
            pending = open_pending[draw(st.sampled_from(sorted(open_pending)))]
            amount = pending.amount
            if kind is TransferKind.post_pending:
                amount = draw(st.integers(1, pending.amount))
            candidate = TransferFacts(
                next_id,
                kind,
                pending.debit_account_id,
                pending.credit_account_id,
                amount,
                pending.amount,
            )
        else:
            debit, credit = draw(st.lists(st.integers(0, 4), min_size=2, max_size=2, unique=True))
            candidate = TransferFacts(next_id, kind, debit, credit, draw(st.integers(1, 10_000)))
        change = rules.effect(candidate.kind, candidate.amount, candidate.pending_amount)
        after = {
            candidate.debit_account_id: rules.applied(
                accounts[candidate.debit_account_id], change[0]
            ),
            candidate.credit_account_id: rules.applied(
                accounts[candidate.credit_account_id], change[1]
            ),
        }
        if any(rules.overdraw_reason(a, a.totals) for a in after.values()):
            continue
        accounts.update(after)
        made.append(candidate)
        if kind is TransferKind.pending:
            open_pending[next_id] = candidate
        elif kind in rules.RESOLUTIONS:
            del open_pending[pending.id]
    return made


@settings(max_examples=200, deadline=None)
@given(ledgers())
def test_random_transfers_keep_the_books_balanced_and_the_totals_equal_to_their_sum(
    transfers: list[TransferFacts],
) -> None:
    totals = rules.replay(transfers)
    overall = sum(totals.values(), Totals())
    assert overall.debits_posted == overall.credits_posted
    assert overall.debits_pending == overall.credits_pending
    posted = sum(
        t.amount for t in transfers if t.kind in (TransferKind.posted, TransferKind.post_pending)
    )
    assert overall.debits_posted == posted
    for account_id in (0, 1):
        mine = totals.get(account_id, Totals())
        assert mine.debits_pending + mine.debits_posted <= mine.credits_posted
    for mine in totals.values():
        assert mine.debits_pending >= 0 and mine.credits_pending >= 0


def test_a_transfer_names_a_pending_transfer_exactly_when_it_posts_or_voids_one() -> None:
    base = {"ref": "r1", "debit_account": "card:1", "credit_account": "fee-income", "amount": 1}
    base["code"] = "fee"
    TransferIn.model_validate({**base, "kind": "void_pending", "pending_ref": "p1"})
    for wrong in (
        {"kind": "post_pending"},
        {"kind": "posted", "pending_ref": "p1"},
        {"kind": "posted", "timeout_seconds": 30},
        {"kind": "pending", "reverses_ref": "r0"},
    ):
        with pytest.raises(ValidationError):
            TransferIn.model_validate({**base, **wrong})
