"""The ledger's rules (pure: no database, no clock of its own).

Design overview
---------------
The ledger follows TigerBeetle's model of double-entry bookkeeping.

*Accounts* (账户) are named by a stable code (``card:<id>``, ``merchant:<code>``,
``bank-clearing:<bank>``, ``acquirer-clearing``, ``medical-pool``,
``medical-personal:<id>``, ``fee-income``, ``benefit-fund``, ``suspense``) and keep four
running totals in integer fen (分): ``debits_pending``, ``debits_posted``,
``credits_pending``, ``credits_posted``. A balance is never stored; it is read from the
totals (``credits_posted - debits_posted`` for an account that holds a cardholder's money).
One of two flags may forbid an overdraw: ``debits_must_not_exceed_credits`` (a card or
personal account: it cannot spend what it does not hold) or
``credits_must_not_exceed_debits``. Pending amounts count against the flag, so money held
for a pending payment cannot be spent twice.

*Transfers* (转账) move an amount (> 0) from one debit account to one credit account of
the same currency. A transfer is one row carrying both legs with the same amount, so its
legs sum to zero by its shape. Transfers are never edited or deleted: a mistake is undone
by a *reversal*, a new transfer with the accounts swapped.

Kinds of transfer:

- ``posted``: moves the amount at once (``*_posted += amount``).
- ``pending``: reserves the amount (``*_pending += amount``), optionally until a timeout.
- ``post_pending``: completes a pending transfer, in full or in part (``amount`` <= the
  pending amount): the whole pending amount is released and ``amount`` is posted.
- ``void_pending``: cancels a pending transfer (its amount is released, nothing posted).

A pending transfer is resolved at most once. Each transfer has a client-chosen reference
(``ref``): a retry with the same reference and the same content answers with the transfer
already made; the same reference with other content is refused. A chain of transfers is
*linked*: all are made or none.

Where each invariant lives: this module checks everything in Python first, to refuse
with a clear reason; the database checks again (CHECK constraints on the totals and the
flags, triggers that apply every transfer to its accounts' totals in the same statement,
refuse a post or void that does not match its pending transfer, and refuse any UPDATE or
DELETE of a transfer). ``sscard ledger verify`` replays every transfer with :func:`replay`
and names the first account whose stored totals differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

CNY = 156
"""ISO 4217 numeric code of the renminbi, the only currency the platform books."""


class AccountKind(StrEnum):
    card = "card"
    merchant = "merchant"
    bank_clearing = "bank-clearing"
    acquirer_clearing = "acquirer-clearing"
    medical_pool = "medical-pool"
    medical_personal = "medical-personal"
    fee_income = "fee-income"
    benefit_fund = "benefit-fund"
    suspense = "suspense"


ACCOUNT_KIND_NAMES = {
    AccountKind.card: "持卡人账户",
    AccountKind.merchant: "商户待结算",
    AccountKind.bank_clearing: "银行清算",
    AccountKind.acquirer_clearing: "收单清算",
    AccountKind.medical_pool: "医保统筹基金",
    AccountKind.medical_personal: "医保个人账户",
    AccountKind.fee_income: "手续费收入",
    AccountKind.benefit_fund: "待遇发放资金",
    AccountKind.suspense: "挂账",
}

SINGLE_ACCOUNTS = frozenset(
    {
        AccountKind.acquirer_clearing,
        AccountKind.medical_pool,
        AccountKind.fee_income,
        AccountKind.benefit_fund,
        AccountKind.suspense,
    }
)
"""Kinds of which the platform has one account, named by the kind alone."""

OWNED_BY_HOLDERS = frozenset({AccountKind.card, AccountKind.medical_personal})
"""Kinds that hold a cardholder's money: by default they may not be overdrawn."""

_SUFFIX_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-.")


class TransferKind(StrEnum):
    posted = "posted"
    pending = "pending"
    post_pending = "post_pending"
    void_pending = "void_pending"


RESOLUTIONS = frozenset({TransferKind.post_pending, TransferKind.void_pending})


def kind_of_code(code: str) -> AccountKind | None:
    """The kind an account code names (``merchant:M001`` -> merchant), or None if malformed."""
    prefix, colon, suffix = code.partition(":")
    try:
        kind = AccountKind(prefix)
    except ValueError:
        return None
    if kind in SINGLE_ACCOUNTS:
        return kind if not colon else None
    if not colon or not 1 <= len(suffix) <= 64 or not set(suffix) <= _SUFFIX_CHARS:
        return None
    return kind


@dataclass(frozen=True, slots=True)
class Totals:
    """An account's four running totals, in fen."""

    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            self.debits_pending + other.debits_pending,
            self.debits_posted + other.debits_posted,
            self.credits_pending + other.credits_pending,
            self.credits_posted + other.credits_posted,
        )


@dataclass(frozen=True, slots=True)
class AccountState:
    """What the rules need of an account: its flags, currency and totals."""

    id: int
    code: str
    currency: int
    debits_must_not_exceed_credits: bool
    credits_must_not_exceed_debits: bool
    totals: Totals


@dataclass(frozen=True, slots=True)
class PendingFacts:
    """A pending transfer as a post or void sees it."""

    id: int
    ref: str
    debit_account_id: int
    credit_account_id: int
    amount: int
    expires_at: datetime | None
    resolved: bool


@dataclass(frozen=True, slots=True)
class TransferFacts:
    """A transfer as the replay needs it: its kind, accounts and amounts."""

    id: int
    kind: TransferKind
    debit_account_id: int
    credit_account_id: int
    amount: int
    pending_amount: int = 0
    """For a post or void: the amount of the pending transfer it resolves."""


def effect(kind: TransferKind, amount: int, pending_amount: int) -> tuple[Totals, Totals]:
    """What a transfer adds to its debit account's and its credit account's totals."""
    if kind is TransferKind.posted:
        return Totals(debits_posted=amount), Totals(credits_posted=amount)
    if kind is TransferKind.pending:
        return Totals(debits_pending=amount), Totals(credits_pending=amount)
    posted = amount if kind is TransferKind.post_pending else 0
    return (
        Totals(debits_pending=-pending_amount, debits_posted=posted),
        Totals(credits_pending=-pending_amount, credits_posted=posted),
    )


def overdraw_reason(account: AccountState, totals: Totals) -> str | None:
    """Why ``totals`` would break the account's flag (None when they keep it)."""
    if totals.debits_pending < 0 or totals.credits_pending < 0:
        return f"账户 {account.code} 的在途金额将为负"
    if account.debits_must_not_exceed_credits and (
        totals.debits_pending + totals.debits_posted > totals.credits_posted
    ):
        return f"账户 {account.code} 余额不足"
    if account.credits_must_not_exceed_debits and (
        totals.credits_pending + totals.credits_posted > totals.debits_posted
    ):
        return f"账户 {account.code} 贷方金额超过借方"
    return None


def transfer_problem(debit: AccountState, credit: AccountState, amount: int) -> str | None:
    """Why a transfer between these accounts cannot be made at all (None when it can)."""
    if amount <= 0:
        return "金额必须大于 0（单位：分）"
    if debit.id == credit.id:
        return "借方账户与贷方账户不能相同"
    if debit.currency != credit.currency:
        return "借贷双方币种不同"
    return None


def resolution_problem(
    kind: TransferKind,
    pending: PendingFacts,
    *,
    debit_account_id: int,
    credit_account_id: int,
    amount: int,
    now: datetime,
) -> str | None:
    """Why a post or void of ``pending`` cannot be made (None when it can)."""
    if pending.resolved:
        return f"待定转账 {pending.ref} 已完成或已撤销"
    if (debit_account_id, credit_account_id) != (
        pending.debit_account_id,
        pending.credit_account_id,
    ):
        return f"账户与待定转账 {pending.ref} 不一致"
    if kind is TransferKind.post_pending:
        if amount > pending.amount:
            return f"入账金额超过待定转账 {pending.ref} 的金额"
        if pending.expires_at is not None and now >= pending.expires_at:
            return f"待定转账 {pending.ref} 已超时"
    elif amount != pending.amount:
        return f"撤销金额必须等于待定转账 {pending.ref} 的金额"
    return None


def replay(transfers: Iterable[TransferFacts]) -> dict[int, Totals]:
    """Every account's totals recomputed from its transfers (accounts with none left out)."""
    totals: dict[int, Totals] = {}
    for transfer in transfers:
        for_debit, for_credit = effect(transfer.kind, transfer.amount, transfer.pending_amount)
        zero = Totals()
        totals[transfer.debit_account_id] = totals.get(transfer.debit_account_id, zero) + for_debit
        totals[transfer.credit_account_id] = (
            totals.get(transfer.credit_account_id, zero) + for_credit
        )
    return totals


def applied(account: AccountState, change: Totals) -> AccountState:
    """The account with ``change`` added to its totals."""
    return replace(account, totals=account.totals + change)
