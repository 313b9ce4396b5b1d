"""Merchant input and output."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MerchantCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9]{4,32}$")
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)]
Mcc = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{4}$")]
InstitutionCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)
]
RegionCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{6}$")]
Bank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)]
Account = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{8,32}$")]
FeeRate = Annotated[int, Field(ge=0, le=10000, description="basis points: 60 = 0.60 %")]


class MerchantStatus(StrEnum):
    active = "active"
    suspended = "suspended"
    closed = "closed"


STATUS_NAMES = {
    MerchantStatus.active: "正常",
    MerchantStatus.suspended: "暂停",
    MerchantStatus.closed: "已关闭",
}


class StatusFilter(StrEnum):
    """A list's status filter: one status, or ``all``."""

    all = "all"
    active = "active"
    suspended = "suspended"
    closed = "closed"


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MerchantCreate(Input):
    code: MerchantCode
    name: Name
    mcc: Mcc
    institution_code: InstitutionCode
    region_code: RegionCode | None = None
    """Where the merchant trades; the institution's region when not given."""
    settlement_bank: Bank
    settlement_account: Account
    fee_rate_bp: FeeRate


class MerchantUpdate(Input):
    name: Name | None = None
    mcc: Mcc | None = None
    region_code: RegionCode | None = None
    settlement_bank: Bank | None = None
    settlement_account: Account | None = None
    fee_rate_bp: FeeRate | None = None


class MerchantOut(BaseModel):
    id: int
    code: str
    name: str
    mcc: str
    mcc_name: str
    institution_code: str
    region_code: str
    settlement_bank: str
    settlement_account: str
    """Masked: first 6 and last 4 digits."""
    fee_rate_bp: int
    status: MerchantStatus
    status_name: str
    created_at: datetime
    updated_at: datetime


class MerchantTerminalOut(BaseModel):
    """A terminal taking payments for a merchant (the terminal as the scenarios know it)."""

    terminal_code: str
    name: str
    scenario_code: str
    status: str
    linked_at: datetime


BillNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9-]{1,25}$")
]


class MerchantQrOut(BaseModel):
    """A merchant's EMVCo QR payload (主扫): static (the payer types the amount) or dynamic."""

    payload: str
    dynamic: bool
    amount_fen: int | None


class SettlementTerms(BaseModel):
    """What clearing needs of a merchant. ``account`` is in clear: settlement files only."""

    code: str
    name: str
    fee_rate_bp: int
    bank: str
    account: str
    account_masked: str
