"""E-card core schemas: signing, copies, resident sessions, revocations, online services
and credential display."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RealPerson(Input):
    """How the holder is seen to be a real person (实人核验)."""

    method: Literal["counter", "face", "demo"]
    image_base64: Annotated[str, StringConstraints(max_length=400_000)] | None = None


class SignIn(Input):
    """Signing an e-card (签发): real name, real card, real person.

    ``ecard_pin`` belongs to the e-card, not to a channel copy: the holder sets it at the
    first signing. Signing again in another channel adds a copy and leaves the PIN as it
    is, so the PIN may be left out then (one sent is not used). PIN reset requires it."""

    id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]
    card_number: Code
    card_pin: SecretStr
    channel_code: Code
    real_person: RealPerson
    ecard_pin: SecretStr | None = Field(
        default=None,
        description="电子社保卡密码: required at the first signing and for a PIN reset; "
        "not used when the card's e-card exists already (adding a channel keeps its PIN)",
    )


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


class LoginIn(Input):
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
    ecard_pin: SecretStr
    channel_code: Code


class SessionOut(BaseModel):
    token: str
    expires_at: datetime


class ResidentSessionOut(BaseModel):
    """A resident's live session in a channel app (what pages and routes act on)."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    person_id: str
    ecard_id: str
    channel_code: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CopyState:
    """What verification needs to know about a copy (cached per process; a copy's status
    is its e-card's while the copy itself is active)."""

    copy_id: int
    ecard_id: str
    person_id: str
    card_id: str
    holder_person_id: str
    proxy: bool
    status: str
    key_version: int


class RevocationOut(BaseModel):
    seq: int
    copy_id: int
    status: str
    recorded_at: datetime


class RevocationPage(BaseModel):
    items: list[RevocationOut]
    next_since: int


class InsuranceItem(BaseModel):
    insurance_type: str
    insurance_type_name: str | None
    status: str
    status_name: str | None
    start_date: date
    end_date: date | None


class InsuranceOut(BaseModel):
    """My insurance enrolments as the cardholder registry holds them."""

    items: list[InsuranceItem]
    source: str


class NotAvailableOut(BaseModel):
    """A part of my data that a later component supplies: nothing is invented meanwhile."""

    topic: str
    title: str
    available: bool
    message: str


class AccessLogItem(BaseModel):
    occurred_at: datetime
    actor_kind: str
    actor_kind_name: str
    actor_name: str | None
    institution_code: str | None
    institution_name: str | None
    action: str
    action_name: str
    purpose: str | None
    fields: list[str]
    field_names: list[str]
    outcome: str


class AccessLogPage(BaseModel):
    items: list[AccessLogItem]
    total: int
    page: int
    page_size: int


class CredentialOut(BaseModel):
    credential: str
    svg: str
    holder_name: str
    issued_at: datetime
    expires_at: datetime


class CredentialIn(Input):
    credential: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]


class CredentialCheck(BaseModel):
    """A verifier's answer: signature, expiry and the e-card's status now."""

    valid: bool
    reason: str | None
    message: str
    holder: dict[str, str] | None
    ecard_status: str | None
    issued_at: datetime | None
    expires_at: datetime | None
    checked_at: datetime


class StepOut(BaseModel):
    name: str
    done: bool
    current: bool


class EnablingStepOut(BaseModel):
    name: str
    status_name: str


class EnablingOut(BaseModel):
    """Whether my card is enabled (启用) and its financial side (银行账户) active."""

    status_name: str
    steps: list[EnablingStepOut]
    bank_name: str
    bank_active: bool
    bank_message: str


class MyCardOut(BaseModel):
    """My live card as the wallet shows it: status, making progress, enabling, and what I
    may do online."""

    status: str
    status_name: str
    card_number: str = Field(description="masked")
    mode: str
    kind: str
    bank_code: str
    batch_no: str | None
    pickup_place: str | None
    expiry_date: date | None
    lost_at: datetime | None
    steps: list[StepOut]
    enabling: EnablingOut | None
    can_report_loss: bool
    can_report_formal_loss: bool
    can_apply_instant: bool


class FormalLossIn(Input):
    """正式挂失 of my card: the e-card PIN again and a confirmation."""

    ecard_pin: SecretStr
    confirm: bool = Field(description="true: the holder confirms the formal loss")


class BranchOut(BaseModel):
    code: str
    name: str


class InstantIn(Input):
    """An instant replacement card at the chosen bank's branches (after a formal loss)."""

    bank_code: Code
    confirm: bool = Field(description="true: the holder knows the old card is cancelled")


class PhoneCodeIn(Input):
    new_phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)]


class PhoneCodeOut(BaseModel):
    """A one-time code was sent to the old number (masked here)."""

    sent_to: str
    expires_at: datetime


class PhoneChangeIn(Input):
    new_phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)]
    code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=12)]


class PhoneChangedOut(BaseModel):
    phone_masked: str
