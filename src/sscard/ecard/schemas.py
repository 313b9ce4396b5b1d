from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RealPerson(Input):
    """How the holder is seen to be a real person (实人核验)."""

    method: Literal["counter", "face", "demo"]
    image_base64: Annotated[str, StringConstraints(max_length=400_000)] | None = None


class SignIn(Input):
    """Signing an e-card (签发): real name, real card, real person."""

    id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]
    card_number: Code
    card_pin: SecretStr
    channel_code: Code
    real_person: RealPerson
    ecard_pin: SecretStr


class CopyIn(Input):
    channel_code: Code


class CopyOut(BaseModel):
    copy_id: int
    channel_code: str
    status: str
    proxy: bool


class ECardOut(BaseModel):
    id: str
    status: str
    card_number: str | None
    holder_name: str
    holder_id_number: str
    signed_at: datetime
    signed_channel: str
    copies: list[CopyOut]


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


class LoginIn(Input):
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
    ecard_pin: SecretStr
    channel_code: Code


class SessionOut(BaseModel):
    token: str
    expires_at: datetime


class RevocationOut(BaseModel):
    seq: int
    copy_id: int
    status: str
    recorded_at: datetime


class RevocationPage(BaseModel):
    items: list[RevocationOut]
    next_since: int
