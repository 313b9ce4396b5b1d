"""The bank's payment API, as the platform calls it (see docs/peers.md, "bank: payments").

- ``POST /payments/debit``: take an amount from the card's account (a payment);
- ``POST /payments/credit``: put an amount on it (a refund, a benefit);
- ``POST /payments/status``: what became of a reference: ``done``, ``refused`` or
  ``unknown`` (never seen);
- ``POST /payments/reverse``: the reversal (冲正) of a debit whose answer the platform never
  got: a debit applied is credited back, one never seen is barred (a late arrival of it is
  refused); either way the reference ends ``refused`` with reason ``reversed``;
- ``GET /control/payments``: what tests look at (every payment by reference).

A reference (``ref``, also sent as ``Idempotency-Key``) is applied at most once: asked again
with the same content, the bank answers as the first time; with other content, 409. A
refusal answers 422 with a reason code (``insufficient_balance``, ``account_inactive``,
``no_account``, ``refused``). Faults for tests (``PUT /control/faults`` with operation
``debit``, ``credit`` or ``status``): ``refuse``, ``unavailable`` (nothing applied),
``slow`` (applied, answered after ``seconds``), ``apply_then_fail`` (applied, answered 503).
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from peers.bank.store import Books, Fault, Payment, books_of, now

router = APIRouter(tags=["payments"])

Ref = Annotated[str, Field(pattern=r"^[A-Za-z0-9:._-]{1,64}$")]


def _books(request: Request) -> Books:
    return books_of(request.app.state)


BooksDep = Annotated[Books, Depends(_books)]


class MoveIn(BaseModel):
    bank_code: str = Field(min_length=1, max_length=32)
    card_number: str = Field(pattern=r"^[A-Z0-9]{9}$")
    account: str = Field(pattern=r"^\d{12,19}$")
    amount_fen: int = Field(gt=0, le=10**13)
    ref: Ref
    kind: Literal["payment", "refund", "benefit"] | None = None


class StatusIn(BaseModel):
    bank_code: str = Field(min_length=1, max_length=32)
    ref: Ref


REASONS = {
    "insufficient_balance": "账户余额不足",
    "account_inactive": "账户未启用或已停用",
    "no_account": "本行没有该卡的账户",
    "refused": "银行拒绝办理：模拟的业务拒绝",
    "reversed": "交易已冲正",
}


def _answer(payment: Payment, replayed: bool = False) -> JSONResponse:
    body = payment.as_dict()
    status = 200 if payment.status == "done" else 422
    if payment.status != "done":
        body |= {"error": payment.reason_code, "detail": payment.reason}
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(body, status_code=status, headers=headers)


def _refusal(books: Books, data: MoveIn, kind: str) -> str | None:
    account = books.accounts.get((data.bank_code, data.account))
    if account is None or account.card_number != data.card_number:
        return "no_account"
    if kind == "debit" and account.status != "active":
        return "account_inactive"
    if kind == "credit" and account.status == "unbound":
        return "account_inactive"
    if kind == "debit" and account.balance_fen < data.amount_fen:
        return "insufficient_balance"
    return None


def _apply(books: Books, data: MoveIn, kind: str, fault: Fault | None) -> Payment:
    """Apply the move (or record its refusal) under the books' lock."""
    reason = "refused" if fault is not None and fault.mode == "refuse" else None
    reason = reason or _refusal(books, data, kind)
    payment = Payment(
        ref=data.ref,
        kind=kind,
        bank_code=data.bank_code,
        card_number=data.card_number,
        account=data.account,
        amount_fen=data.amount_fen,
        status="refused" if reason else "done",
        reason_code=reason,
        reason=REASONS[reason] if reason else None,
        at=now(),
    )
    if reason is None:
        account = books.accounts[(data.bank_code, data.account)]
        sign = -1 if kind == "debit" else 1
        entry_kind = data.kind or ("payment" if kind == "debit" else "refund")
        account.post(sign * data.amount_fen, entry_kind, f"{entry_kind} {data.ref}")
    books.payments[data.ref] = payment
    return payment


def _same(payment: Payment, data: MoveIn, kind: str) -> bool:
    return (payment.kind, payment.card_number, payment.account, payment.amount_fen) == (
        kind,
        data.card_number,
        data.account,
        data.amount_fen,
    )


def _move(books: Books, data: MoveIn, kind: str) -> Any:
    with books.lock:
        fault = books.fault_for(kind, data.card_number)
        if fault is not None and fault.mode == "unavailable":
            return JSONResponse({"error": "unavailable", "detail": "银行核心系统维护中"}, 503)
        known = books.payments.get(data.ref)
        if known is not None:
            if known.reason_code == "reversed":
                return _answer(known, replayed=True)
            if not _same(known, data, kind):
                return JSONResponse(
                    {"error": "ref_reused", "detail": "交易参考号已用于其他交易"}, 409
                )
            return _answer(known, replayed=True)
        payment = _apply(books, data, kind, fault)
    if fault is not None and fault.mode == "apply_then_fail":
        return JSONResponse({"error": "unavailable", "detail": "银行应答失败"}, 503)
    if fault is not None and fault.mode == "slow":
        time.sleep(fault.seconds)
    return _answer(payment)


@router.post("/payments/debit")
def debit(data: MoveIn, books: BooksDep) -> Any:
    """Take ``amount_fen`` from the card's account, once per ``ref``."""
    return _move(books, data, "debit")


@router.post("/payments/credit")
def credit(data: MoveIn, books: BooksDep) -> Any:
    """Put ``amount_fen`` on the card's account, once per ``ref``."""
    return _move(books, data, "credit")


@router.post("/payments/status")
def payment_status(data: StatusIn, books: BooksDep) -> Any:
    """What became of ``ref``: done, refused, or unknown (the bank never applied it)."""
    with books.lock:
        fault = books.fault_for("status", "")
        if fault is not None and fault.mode == "unavailable":
            return JSONResponse({"error": "unavailable", "detail": "银行核心系统维护中"}, 503)
        known = books.payments.get(data.ref)
        if known is None or known.bank_code != data.bank_code:
            return {"ref": data.ref, "status": "unknown"}
        return known.as_dict()


@router.post("/payments/reverse")
def reverse(data: StatusIn, books: BooksDep) -> Any:
    """Reverse the debit ``ref`` (冲正): credited back if it was applied, barred if not."""
    with books.lock:
        known = books.payments.get(data.ref)
        if known is not None and known.bank_code != data.bank_code:
            return JSONResponse({"error": "ref_reused", "detail": "交易参考号已用于其他银行"}, 409)
        if known is None:
            known = Payment(
                data.ref, "debit", data.bank_code, "", "", 0, "refused", None, None, now()
            )
            books.payments[data.ref] = known
        elif known.status == "done" and known.kind == "debit":
            account = books.accounts.get((known.bank_code, known.account))
            if account is not None:
                account.post(known.amount_fen, "reversal", f"reversal {data.ref}")
        if known.kind == "debit":
            known.status, known.reason_code = "refused", "reversed"
            known.reason = REASONS["reversed"]
        return known.as_dict()


@router.get("/control/payments")
def list_payments(books: BooksDep, ref: str | None = None) -> Any:
    """Every payment the bank applied or refused (tests check what the platform did)."""
    with books.lock:
        items = [p.as_dict() for p in books.payments.values() if ref is None or p.ref == ref]
        return {"items": items, "calls": dict(books.calls)}
