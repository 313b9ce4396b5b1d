"""The bank's books, kept in memory: accounts bound to cards, their transactions, the
answers already given to idempotency keys, and the faults a test asked for.

One process, one lock: the simulator is about protocol, not about throughput of a core
banking system. Restarting the process starts from empty books (accounts the platform
mentions later are taken as opened earlier by a card-making file, see ``accounts.py``).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

OPERATIONS = (
    "open",
    "activate",
    "deactivate",
    "bind",
    "unbind",
    "balance",
    "transactions",
    "debit",
    "credit",
    "status",
)


def luhn_digit(digits: str) -> str:
    """The Luhn check digit bank card numbers end with."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def new_account_number() -> str:
    """A 19-digit debit card number: BIN 621700, 12 random digits, Luhn check digit."""
    body = "621700" + f"{secrets.randbelow(10**12):012d}"
    return body + luhn_digit(body)


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Entry:
    occurred_at: datetime
    amount_fen: int
    balance_fen: int
    kind: str
    description: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "occurred_at": self.occurred_at.isoformat(),
            "amount_fen": self.amount_fen,
            "balance_fen": self.balance_fen,
            "kind": self.kind,
            "description": self.description,
        }


@dataclass
class Account:
    bank_code: str
    number: str
    card_number: str
    status: str = "opened"
    """opened (not yet usable), active, inactive (deactivated) or unbound."""
    balance_fen: int = 0
    entries: list[Entry] = field(default_factory=list)

    def post(self, amount_fen: int, kind: str, description: str) -> Entry:
        self.balance_fen += amount_fen
        entry = Entry(now(), amount_fen, self.balance_fen, kind, description)
        self.entries.append(entry)
        return entry

    def as_dict(self) -> dict[str, Any]:
        return {
            "bank_code": self.bank_code,
            "account": self.number,
            "card_number": self.card_number,
            "status": self.status,
            "balance_fen": self.balance_fen,
        }


@dataclass
class Payment:
    """A debit or credit the platform asked for, by its reference (the bank's daily file
    lists them)."""

    ref: str
    kind: str
    """debit or credit."""
    bank_code: str
    card_number: str
    account: str
    amount_fen: int
    status: str
    """done or refused."""
    reason_code: str | None
    reason: str | None
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "kind": self.kind,
            "bank_code": self.bank_code,
            "card_number": self.card_number,
            "account": self.account,
            "amount_fen": self.amount_fen,
            "status": self.status,
            "reason_code": self.reason_code,
            "reason": self.reason,
            "at": self.at.isoformat(),
        }


@dataclass
class Fault:
    """Make calls of one operation fail: ``refuse`` (422), ``unavailable`` (503), or for a
    debit or credit ``slow`` (applied, answered after ``seconds``) and ``apply_then_fail``
    (applied, answered 503)."""

    mode: str
    times: int | None = None
    """How many calls still fail; None = every call."""
    card_numbers: frozenset[str] | None = None
    """Only calls about these cards; None = every card."""
    seconds: float = 0.0
    """For ``slow``: how long the answer waits."""


class Books:
    """Accounts by (bank, account number) and by (bank, card number)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[tuple[str, str], Account] = {}
        self.by_card: dict[tuple[str, str], str] = {}
        self.replies: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        self.faults: dict[str, Fault] = {}
        self.payments: dict[str, Payment] = {}
        self.calls: dict[str, int] = dict.fromkeys(OPERATIONS, 0)

    def account_of_card(self, bank_code: str, card_number: str) -> Account | None:
        number = self.by_card.get((bank_code, card_number))
        return self.accounts.get((bank_code, number)) if number else None

    def open(self, bank_code: str, card_number: str, number: str | None = None) -> Account:
        """The card's account at this bank, opened now if it has none."""
        found = self.account_of_card(bank_code, card_number)
        if found is not None and found.status != "unbound":
            return found
        account = Account(bank_code, number or new_account_number(), card_number)
        self.accounts[(bank_code, account.number)] = account
        self.by_card[(bank_code, card_number)] = account.number
        account.post(0, "open", "开户")
        return account

    def fault_for(self, operation: str, card_number: str) -> Fault | None:
        """The fault to apply to this call, counting it down."""
        self.calls[operation] = self.calls.get(operation, 0) + 1
        fault = self.faults.get(operation)
        if fault is None:
            return None
        if fault.card_numbers is not None and card_number not in fault.card_numbers:
            return None
        if fault.times is not None:
            if fault.times <= 0:
                return None
            fault.times -= 1
        return fault

    def reset(self) -> None:
        with self.lock:
            self.accounts.clear()
            self.by_card.clear()
            self.replies.clear()
            self.faults.clear()
            self.payments.clear()
            self.calls = dict.fromkeys(OPERATIONS, 0)


_create_lock = threading.Lock()


def books_of(state: Any) -> Books:
    """The books of one app (``app.state``), created on first use."""
    with _create_lock:
        found = getattr(state, "bank_books", None)
        if found is None:
            found = Books()
            state.bank_books = found
        return found
