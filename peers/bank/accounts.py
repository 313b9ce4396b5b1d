"""The bank's account API, as the platform calls it (see docs/peers.md, "bank: accounts").

- ``POST /accounts``: open the account of a card (a branch making a card on the spot);
- ``POST /accounts/activate`` / ``/accounts/deactivate``: one-step activation and its undo;
- ``POST /cards/bind`` / ``/cards/unbind``: changing the service bank (换绑服务银行);
- ``POST /accounts/balance`` / ``/accounts/transactions``: queries;
- ``/control/...``: what tests and demos use to make calls fail, post money, look inside.

Calls that change something honour ``Idempotency-Key``: the first answer is kept and
given again. An account the bank has not seen (opened by a batch card-making file before
this process started) is taken as opened when the platform first names it with its card.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from peers.bank.store import OPERATIONS, Account, Books, Fault, books_of, now

router = APIRouter(tags=["accounts"])

Answer = tuple[int, dict[str, Any]]
Digits = Annotated[str, Field(pattern=r"^\d{12,19}$")]
CardNumber = Annotated[str, Field(pattern=r"^[A-Z0-9]{9}$")]


def _books(request: Request) -> Books:
    return books_of(request.app.state)


BooksDep = Annotated[Books, Depends(_books)]
Key = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


class CardIn(BaseModel):
    bank_code: str = Field(min_length=1, max_length=32)
    card_number: CardNumber


class AccountIn(CardIn):
    account: Digits


class BindIn(CardIn):
    activate: bool = False


class HistoryIn(AccountIn):
    start_date: date | None = None
    end_date: date | None = None
    limit: int = Field(default=50, ge=1, le=500)


class FaultIn(BaseModel):
    operation: Literal[
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
        "paypage_refund",
    ]
    mode: Literal["refuse", "unavailable", "slow", "apply_then_fail"]
    times: int | None = Field(default=None, ge=1)
    card_numbers: list[str] | None = None
    seconds: float = Field(default=0.0, ge=0, le=120)
    """For ``slow``: how long the answer waits."""


class PostingIn(AccountIn):
    amount_fen: int
    kind: Literal["deposit", "payment", "refund", "benefit"] = "payment"
    description: str = Field(default="", max_length=100)


def _refused(detail: str, status: int = 422) -> Answer:
    return status, {"error": "refused", "detail": detail}


def _faulted(books: Books, operation: str, card_number: str) -> Answer | None:
    fault = books.fault_for(operation, card_number)
    if fault is None or fault.mode in ("slow", "apply_then_fail"):
        return None
    if fault.mode == "unavailable":
        return 503, {"error": "unavailable", "detail": "银行核心系统维护中"}
    return _refused(f"银行拒绝办理（{operation}）：模拟的业务拒绝")


def _once(books: Books, operation: str, key: str | None, action: Callable[[], Answer]) -> Any:
    """Run ``action`` once per idempotency key; a repeated key gets the first answer."""
    with books.lock:
        if key and (operation, key) in books.replies:
            status, body = books.replies[(operation, key)]
            return JSONResponse(body, status_code=status, headers={"Idempotent-Replayed": "true"})
        status, body = action()
        if key and status < 300:
            books.replies[(operation, key)] = (status, body)
        return JSONResponse(body, status_code=status)


def _named(books: Books, data: AccountIn) -> Account | Answer:
    """The account the platform names for the card, or a refusal."""
    account = books.accounts.get((data.bank_code, data.account))
    if account is None:
        if books.account_of_card(data.bank_code, data.card_number) is not None:
            return _refused("该卡已绑定本行其他账户", 409)
        return books.open(data.bank_code, data.card_number, data.account)
    if account.card_number != data.card_number:
        return _refused("账户与卡号不符", 409)
    return account


@router.post("/accounts")
def open_account(data: CardIn, books: BooksDep, key: Key = None) -> Any:
    """Open (or find) the account of a card being made at a branch."""

    def action() -> Answer:
        fault = _faulted(books, "open", data.card_number)
        if fault:
            return fault
        account = books.open(data.bank_code, data.card_number)
        return 201, {"account": account.number, "status": account.status}

    return _once(books, "open", key, action)


@router.post("/accounts/activate")
def activate(data: AccountIn, books: BooksDep, key: Key = None) -> Any:
    """Activate the card's account (the bank's part of one-step activation)."""

    def action() -> Answer:
        fault = _faulted(books, "activate", data.card_number)
        if fault:
            return fault
        account = _named(books, data)
        if not isinstance(account, Account):
            return account
        if account.status == "unbound":
            return _refused("账户已解绑，不能启用", 409)
        account.status = "active"
        return 200, {"account": account.number, "status": account.status}

    return _once(books, "activate", key, action)


@router.post("/accounts/deactivate")
def deactivate(data: AccountIn, books: BooksDep, key: Key = None) -> Any:
    """Undo an activation; an account never activated has nothing to undo."""

    def action() -> Answer:
        fault = _faulted(books, "deactivate", data.card_number)
        if fault:
            return fault
        account = books.accounts.get((data.bank_code, data.account))
        if account is None or account.card_number != data.card_number:
            return 200, {"account": data.account, "status": "inactive"}
        if account.status == "active":
            account.status = "inactive"
        return 200, {"account": account.number, "status": account.status}

    return _once(books, "deactivate", key, action)


@router.post("/cards/bind")
def bind(data: BindIn, books: BooksDep, key: Key = None) -> Any:
    """Bind a card to an account of this bank (the card's new service bank)."""

    def action() -> Answer:
        fault = _faulted(books, "bind", data.card_number)
        if fault:
            return fault
        account = books.open(data.bank_code, data.card_number)
        if data.activate:
            account.status = "active"
        return 200, {"account": account.number, "status": account.status}

    return _once(books, "bind", key, action)


@router.post("/cards/unbind")
def unbind(data: CardIn, books: BooksDep, key: Key = None) -> Any:
    """Unbind a card from its account here (the card moved to another bank)."""

    def action() -> Answer:
        fault = _faulted(books, "unbind", data.card_number)
        if fault:
            return fault
        account = books.account_of_card(data.bank_code, data.card_number)
        if account is None:
            return 200, {"status": "not_bound"}
        account.status = "unbound"
        del books.by_card[(data.bank_code, data.card_number)]
        return 200, {"account": account.number, "status": account.status}

    return _once(books, "unbind", key, action)


def _query(books: Books, operation: str, data: AccountIn) -> Account | Answer:
    fault = _faulted(books, operation, data.card_number)
    if fault:
        return fault
    account = books.accounts.get((data.bank_code, data.account))
    if account is None or account.card_number != data.card_number:
        return _refused("本行没有该卡的账户", 404)
    return account


@router.post("/accounts/balance")
def balance(data: AccountIn, books: BooksDep) -> Any:
    """The account's balance (available only while the account is active)."""
    with books.lock:
        found = _query(books, "balance", data)
        if not isinstance(found, Account):
            return JSONResponse(found[1], status_code=found[0])
        available = found.balance_fen if found.status == "active" else 0
        return {
            "balance_fen": found.balance_fen,
            "available_fen": available,
            "currency": "CNY",
            "as_of": now().isoformat(),
            "status": found.status,
        }


@router.post("/accounts/transactions")
def transactions(data: HistoryIn, books: BooksDep) -> Any:
    """The account's transactions, newest first."""
    with books.lock:
        found = _query(books, "transactions", data)
        if not isinstance(found, Account):
            return JSONResponse(found[1], status_code=found[0])
        items = [
            e
            for e in reversed(found.entries)
            if (data.start_date is None or e.occurred_at.date() >= data.start_date)
            and (data.end_date is None or e.occurred_at.date() <= data.end_date)
        ]
        return {"items": [e.as_dict() for e in items[: data.limit]]}


@router.put("/control/faults", status_code=204)
def set_fault(data: FaultIn, books: BooksDep) -> None:
    """Make calls of one operation fail (tests and demos)."""
    with books.lock:
        cards = frozenset(data.card_numbers) if data.card_numbers is not None else None
        books.faults[data.operation] = Fault(data.mode, data.times, cards, data.seconds)


@router.delete("/control/faults", status_code=204)
def clear_faults(books: BooksDep) -> None:
    with books.lock:
        books.faults.clear()


@router.post("/control/postings")
def post_money(data: PostingIn, books: BooksDep) -> Any:
    """Post a deposit or a payment on an account (to have something to query)."""
    with books.lock:
        account = _named(books, data)
        if not isinstance(account, Account):
            return JSONResponse(account[1], status_code=account[0])
        entry = account.post(data.amount_fen, data.kind, data.description)
        return entry.as_dict()


@router.post("/control/lookup")
def lookup(data: CardIn, books: BooksDep) -> Any:
    """The card's account here, with its status (tests look at what the platform did)."""
    with books.lock:
        account = books.account_of_card(data.bank_code, data.card_number)
        if account is None:
            unbound = [
                a
                for a in books.accounts.values()
                if a.bank_code == data.bank_code and a.card_number == data.card_number
            ]
            if not unbound:
                return JSONResponse({"error": "not_found", "detail": "无此卡"}, status_code=404)
            account = unbound[-1]
        return {**account.as_dict(), "calls": dict(books.calls)}


__all__ = ["OPERATIONS", "router"]
