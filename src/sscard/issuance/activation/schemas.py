"""One-step activation, bank change and card account input and output."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from sscard.issuance.cards.schemas import Code, Input, NamedStatus, Note


class ActivationStepOut(BaseModel):
    step: str
    name: str
    status: str
    status_name: str
    run: int
    last_error: str | None
    updated_at: datetime


class ActivationOut(BaseModel):
    """Progress of one-step activation (一站式启用): none, pending, done, failed or
    compensating (failed, undoing the steps already done)."""

    card_id: str
    card_number: str | None
    card_status: NamedStatus
    status: str
    status_name: str
    reason: str | None
    steps: list[ActivationStepOut]


class BankChangeIn(Input):
    bank_code: Code
    note: Note = ""


class BalanceOut(BaseModel):
    card_number: str
    bank_code: str
    bank_account: str
    balance_fen: int
    available_fen: int
    currency: str
    as_of: datetime


class BankTransactionOut(BaseModel):
    occurred_at: datetime
    amount_fen: int
    balance_fen: int
    kind: str
    description: str
