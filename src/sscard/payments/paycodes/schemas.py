"""Payment code and merchant QR payment input and output."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from sscard.kit.bounds import BigInt

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
MerchantCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=32)
]
MerchantOrderNo = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_-]{1,64}$")
]
Payload = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512)]
YuanText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=16)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PaycodeOut(BaseModel):
    """A fresh payment code for the wallet: 19 digits, shown grouped and as a QR."""

    code: str
    grouped: str
    product_name: str
    expires_at: datetime
    ttl_seconds: int
    no_pin_limit_fen: int


class ChargeIn(Input):
    """A merchant charges a scanned payment code (被扫)."""

    merchant_code: MerchantCode
    terminal_code: Annotated[str, StringConstraints(max_length=32)] | None = None
    code: Code
    amount_fen: Annotated[BigInt, Field(strict=True)] | None = None
    """Integer fen; or ``amount`` in yuan text ("12.30"), not both."""
    amount: YuanText | None = None
    merchant_order_no: MerchantOrderNo
    pin: SecretStr | None = None
    """The payer's e-card PIN, typed on the terminal's keypad above the no-PIN limit."""


class MerchantQrIn(Input):
    payload: Payload


class MerchantQrPayIn(Input):
    """The resident pays a scanned merchant QR (主扫) with the e-card PIN."""

    payload: Payload
    amount: YuanText | None = None
    """Yuan text, for a static code only (a dynamic code carries its amount)."""
    pin: SecretStr


class MerchantQrPreview(BaseModel):
    """Whom a scanned merchant QR pays, and how much (None: the payer types it)."""

    merchant_code: str
    merchant_name: str
    mcc: str
    mcc_name: str
    dynamic: bool
    amount_fen: int | None
    amount: str | None
    bill_number: str | None


class PaymentOut(BaseModel):
    """The outcome of a payment as the payer and the merchant see it."""

    order_no: str
    status: str
    """paid (成功), failed (失败), paying (银行处理中)."""
    status_name: str
    reason: str | None
    amount_fen: int
    amount: str
    merchant_code: str
    merchant_name: str
    merchant_order_no: str
    channel: str
    at: datetime
