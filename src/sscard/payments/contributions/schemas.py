"""Input and output of contributions."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

INSURANCE = "城乡居民基本养老保险"


class ContributionIn(BaseModel):
    """A resident's contribution for a year at a grade, paid by online bank or by card."""

    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=2000, le=2100)
    grade_fen: int = Field(gt=0, description="One of the city's grades, in fen.")
    channel: Literal["online_bank", "card"] = "card"


class ContributionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    year: int
    grade_fen: int
    order_no: str
    channel: str
    status: str
    report_detail: str
    created_at: datetime
    paid_at: datetime | None
    reported_at: datetime | None
    insurance: str = INSURANCE


class ContributionOptions(BaseModel):
    """What a resident may choose: the open years and the city's grades (fen)."""

    insurance: str = INSURANCE
    years: list[int]
    grades_fen: list[int]
