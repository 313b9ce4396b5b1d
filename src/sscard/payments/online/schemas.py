"""Input and output of online banking."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class StartIn(BaseModel):
    """Pay an order on its bank's pay page."""

    model_config = ConfigDict(extra="forbid")

    bank_code: str = Field(min_length=1, max_length=32, description="The bank's institution code.")


class StartOut(BaseModel):
    order_no: str
    bank_code: str
    pay_url: str
    """Where to send the resident's browser (the bank's pay page with the signed request)."""


class OnlinePaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    order_no: str
    bank_code: str
    amount_fen: int
    status: str
    bank_ref: str | None
    started_at: datetime
    paid_at: datetime | None


class NoticeAnswer(BaseModel):
    """The platform's answer to a bank notice; a replay gets the same one."""

    notice_id: str
    order_no: str
    outcome: str
    reason: str
