"""Verify the ledger (``sscard ledger verify``): replay every transfer and compare.

Reads in chunks, so a ledger of millions of transfers is checked in bounded memory (one
``Totals`` per account). Checks, in this order, and names the first failure:

1. every transfer on its own: amount > 0, two different accounts; a post or void resolves
   a pending transfer of the same accounts (a post not above it, a void equal to it), and
   no pending transfer is resolved twice;
2. every account's stored totals equal the totals replayed from its transfers;
3. the books balance: posted debits equal posted credits over all accounts (and pending).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from sscard import db
from sscard.payments.ledger import repository, rules
from sscard.payments.ledger.repository import StreamedTransfer
from sscard.payments.ledger.rules import Totals, TransferKind
from sscard.payments.ledger.schemas import VerifyReport

CHUNK = 5000
ZERO = Totals()

Progress = Callable[[str, int, int], None]
"""Told (stage, done, total) as the check goes: stage "transfers" then "accounts"."""


def _transfer_problem(row: StreamedTransfer, resolved: set[int]) -> str | None:
    _id, _ref, kind, debit, credit, amount, pending_id, p_kind, p_debit, p_credit, p_amount = row
    if amount <= 0 or debit == credit:
        return "金额不为正或借贷为同一账户"
    if kind not in rules.RESOLUTIONS:
        return None if pending_id is None else "非入账/撤销却引用了待定转账"
    if pending_id is None or p_kind != TransferKind.pending or p_amount is None:
        return "引用的待定转账不存在"
    if pending_id in resolved:
        return "待定转账被重复完成或撤销"
    resolved.add(pending_id)
    if (p_debit, p_credit) != (debit, credit):
        return "与待定转账的账户不一致"
    if amount > p_amount or (kind == TransferKind.void_pending and amount != p_amount):
        return "金额与待定转账不一致"
    return None


def _replay(session: Session, progress: Progress, report: VerifyReport) -> dict[int, Totals]:
    totals: dict[int, Totals] = {}
    resolved: set[int] = set()
    done = 0
    for row in repository.stream_transfers(session, CHUNK):
        problem = _transfer_problem(row, resolved)
        if problem is not None:
            report.ok, report.broken_transfer, report.reason = False, row[1], problem
            return totals
        for_debit, for_credit = rules.effect(TransferKind(row[2]), row[5], row[10] or 0)
        totals[row[3]] = totals.get(row[3], ZERO) + for_debit
        totals[row[4]] = totals.get(row[4], ZERO) + for_credit
        done += 1
        if done % CHUNK == 0:
            progress("transfers", done, report.transfers)
    progress("transfers", done, report.transfers)
    return totals


def verify_ledger(session: Session, *, progress: Progress) -> VerifyReport:
    """Replay every transfer; the first transfer or account that is wrong, and why.

    Reads one snapshot (:func:`sscard.db.snapshot`), so payments committed while the check
    runs never show as a difference."""
    db.snapshot(session)
    report = VerifyReport(
        ok=True,
        accounts=repository.count_accounts(session),
        transfers=repository.count_transfers(session),
    )
    replayed = _replay(session, progress, report)
    if not report.ok:
        return report
    overall = Totals()
    for done, account in enumerate(repository.stream_accounts(session, CHUNK), start=1):
        stored = Totals(
            account.debits_pending,
            account.debits_posted,
            account.credits_pending,
            account.credits_posted,
        )
        expected = replayed.get(account.id, Totals())
        if stored != expected:
            report.ok, report.broken_account = False, account.code
            report.reason = _difference(stored, expected)
            return report
        overall = overall + stored
        if done % CHUNK == 0:
            progress("accounts", done, report.accounts)
    progress("accounts", report.accounts, report.accounts)
    if (overall.debits_posted, overall.debits_pending) != (
        overall.credits_posted,
        overall.credits_pending,
    ):
        report.ok, report.reason = False, "借方合计与贷方合计不相等"
    return report


def _difference(stored: Totals, expected: Totals) -> str:
    names = {
        "debits_pending": "借方在途",
        "debits_posted": "借方已入账",
        "credits_pending": "贷方在途",
        "credits_posted": "贷方已入账",
    }
    return "；".join(
        f"{label} 记录为 {getattr(stored, name)}，按转账重算应为 {getattr(expected, name)}"
        for name, label in names.items()
        if getattr(stored, name) != getattr(expected, name)
    )
