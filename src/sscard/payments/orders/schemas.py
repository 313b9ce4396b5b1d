"""Order and refund input and output. Amounts are integer fen (分)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from sscard.kit.bounds import BigInt


class OrderStatus(StrEnum):
    created = "created"
    paying = "paying"
    paid = "paid"
    failed = "failed"
    closed = "closed"
    refunded = "refunded"
    partially_refunded = "partially_refunded"


STATUS_NAMES = {
    OrderStatus.created: "待支付",
    OrderStatus.paying: "支付中",
    OrderStatus.paid: "已支付",
    OrderStatus.failed: "支付失败",
    OrderStatus.closed: "已关闭",
    OrderStatus.refunded: "已全额退款",
    OrderStatus.partially_refunded: "部分退款",
}


class StatusFilter(StrEnum):
    """A list's status filter: one status, or ``all``."""

    all = "all"
    created = "created"
    paying = "paying"
    paid = "paid"
    failed = "failed"
    closed = "closed"
    refunded = "refunded"
    partially_refunded = "partially_refunded"


class Channel(StrEnum):
    paycode = "paycode"
    merchant_qr = "merchant_qr"
    online_bank = "online_bank"
    card = "card"
    counter = "counter"


CHANNEL_NAMES = {
    Channel.paycode: "付款码（被扫）",
    Channel.merchant_qr: "扫商户码（主扫）",
    Channel.online_bank: "网银",
    Channel.card: "实体卡刷卡",
    Channel.counter: "柜面",
}


class Category(StrEnum):
    medicine = "medicine"
    medical = "medical"
    transit = "transit"
    retail = "retail"
    contribution = "contribution"
    other = "other"


CATEGORY_NAMES = {
    Category.medicine: "购药",
    Category.medical: "就医",
    Category.transit: "交通",
    Category.retail: "购物",
    Category.contribution: "缴费",
    Category.other: "其他",
}


class RefundStatus(StrEnum):
    pending = "pending"
    done = "done"
    failed = "failed"


REFUND_STATUS_NAMES = {
    RefundStatus.pending: "退款中",
    RefundStatus.done: "已退款",
    RefundStatus.failed: "退款失败",
}

MerchantOrderNo = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_-]{1,64}$")
]
OrderNo = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^P\d{19}$")]
RefundNo = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_-]{1,40}$")
]
Fen = BigInt
"""The service names a non-positive or over-limit amount in a clerk's words."""
Subject = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
CardNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9]{9}$")
]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrderIn(Input):
    merchant_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
    merchant_order_no: MerchantOrderNo
    amount_fen: Fen
    category: Category = Category.other
    channel: Channel = Channel.counter
    subject: Subject | None = None
    timeout_s: Annotated[int, Field(ge=60, le=7 * 86400)] | None = None


class PayCardIn(Input):
    card_number: CardNumber


class RefundIn(Input):
    amount_fen: Fen
    reason: Reason
    refund_no: RefundNo


class OrderOut(BaseModel):
    order_no: str
    merchant_code: str
    merchant_order_no: str
    amount_fen: int
    paid_fen: int
    refunded_fen: int
    category: Category
    category_name: str
    channel: Channel
    channel_name: str
    subject: str | None
    status: OrderStatus
    status_name: str
    card_id: str | None
    card_number: str | None
    """Masked (first 3 and last 2 characters)."""
    bank_code: str | None
    expires_at: datetime
    paid_at: datetime | None
    closed_at: datetime | None
    failure_code: str | None
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime


class RefundOut(BaseModel):
    refund_no: str
    order_no: str
    amount_fen: int
    reason: str
    status: RefundStatus
    status_name: str
    failure_reason: str | None
    created_at: datetime
    done_at: datetime | None
