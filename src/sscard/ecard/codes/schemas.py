"""Dynamic QR codes: the code a wallet shows, what a terminal sends, what it learns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from sscard.ecard.schemas import Code, Input


class CodeOut(BaseModel):
    code: str
    copy_id: int
    business: int
    expires_at: datetime
    ttl_seconds: int


class VerifyIn(Input):
    code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=400)]
    business: int | None = Field(default=None, ge=1, le=4)
    scenario_code: Code | None = None


class VerificationOut(BaseModel):
    valid: bool
    scenario: str
    business: int
    proxy: bool
    holder: dict[str, Any]
    """Only the attributes the terminal's scenario may see."""
    verified_at: datetime
