"""Ledger input and output. Amounts are integer fen (分)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from sscard.kit.bounds import BIGINT_MAX
from sscard.payments.ledger.rules import CNY, RESOLUTIONS, TransferKind

Ref = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9:._-]{1,64}$")]
AccountCode = Annotated[str, StringConstraints(min_length=3, max_length=96)]
Fen = Annotated[int, Field(gt=0, le=BIGINT_MAX)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccountIn(Input):
    """An account to open; flags default by kind (a cardholder's account may not overdraw)."""

    code: AccountCode
    currency: int = CNY
    debits_must_not_exceed_credits: bool | None = None
    credits_must_not_exceed_debits: bool = False


class TransferIn(Input):
    """A transfer to make. ``pending_ref`` names the pending transfer a post or void resolves."""

    ref: Ref
    debit_account: AccountCode
    credit_account: AccountCode
    amount: Fen
    code: Annotated[str, StringConstraints(pattern=r"^[a-z_]{2,32}$")]
    reason: Annotated[str, StringConstraints(max_length=200)] = ""
    kind: TransferKind = TransferKind.posted
    pending_ref: Ref | None = None
    timeout_seconds: Annotated[int, Field(gt=0, le=90 * 86400)] | None = None
    reverses_ref: Ref | None = None
    """For a reversal (冲正): the posted transfer it undoes."""

    @model_validator(mode="after")
    def _fields_of_the_kind(self) -> TransferIn:
        if (self.pending_ref is not None) != (self.kind in RESOLUTIONS):
            raise ValueError("pending_ref: 入账或撤销待定转账时必填，其他转账不得填写")
        if self.timeout_seconds is not None and self.kind is not TransferKind.pending:
            raise ValueError("timeout_seconds: 只有待定转账可以设置超时")
        if self.reverses_ref is not None and self.kind is not TransferKind.posted:
            raise ValueError("reverses_ref: 冲正必须是立即入账的转账")
        return self


class AccountOut(BaseModel):
    code: str
    kind: str
    currency: int
    debits_must_not_exceed_credits: bool
    credits_must_not_exceed_debits: bool
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int
    balance: int
    """Posted credits minus posted debits, in fen."""
    available: int
    """What may still be debited without breaking the no-overdraw flag (credits minus
    posted and pending debits), in fen."""
    created_at: datetime


class TransferOut(BaseModel):
    ref: str
    kind: TransferKind
    debit_account: str
    credit_account: str
    amount: int
    code: str
    reason: str
    pending_ref: str | None
    reverses_ref: str | None
    expires_at: datetime | None
    created_at: datetime


class AccountPage(BaseModel):
    items: list[AccountOut]
    total: int


class TransferPage(BaseModel):
    items: list[TransferOut]
    total: int


class VerifyReport(BaseModel):
    """What ``verify`` found: ``ok``, or the first broken account or transfer and why."""

    ok: bool
    accounts: int
    transfers: int
    broken_account: str | None = None
    broken_transfer: str | None = None
    reason: str | None = None
