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


# ---- online services, authorisation, scan login, family service, credentials --------------

from datetime import date  # noqa: E402

ScopeName = Literal["profile", "identity", "card", "insurance"]
GrantType = Literal["authorization_code", "scan_login"]


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


class ClientIn(Input):
    """A client of online authorisation or scan login, registered by an administrator."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    institution_code: Code
    channel_code: Code | None = None
    redirect_uris: Annotated[list[Annotated[str, StringConstraints(max_length=500)]],
                             Field(max_length=10)] = []  # fmt: skip
    scopes: Annotated[list[ScopeName], Field(min_length=1)]
    grant_types: Annotated[list[GrantType], Field(min_length=1)] = ["authorization_code"]


class ClientOut(BaseModel):
    client_id: str
    name: str
    institution_code: str
    channel_code: str | None
    redirect_uris: list[str]
    scopes: list[str]
    grant_types: list[str]
    status: str
    created_at: datetime


class ClientCreated(BaseModel):
    client: ClientOut
    client_secret: str
    """Shown once; the platform keeps only its hash."""


class TokenOut(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    scope: str


class ScopeOut(BaseModel):
    scope: str
    description: str


class LoginTicketIn(Input):
    scope: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None


class LoginTicketOut(BaseModel):
    ticket_id: str
    qr_text: str
    expires_at: datetime
    expires_in: int


class LoginTicketPreview(BaseModel):
    """What the wallet shows before the resident confirms a scan login."""

    ticket_id: str
    client_name: str
    institution_name: str | None
    scopes: list[ScopeOut]
    status: str
    expires_at: datetime


class LoginTicketStatus(BaseModel):
    """What the portal learns when it polls: the identity once, after the confirmation."""

    ticket_id: str
    status: str
    expires_at: datetime
    identity: dict[str, Any] | None = None


class FamilyBindIn(Input):
    member_id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
    member_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                  max_length=64)]  # fmt: skip
    relation: Literal["minor", "elder"] | None = None
    """Left out: decided by the member's age."""


class FamilyMemberOut(BaseModel):
    """A family member as the guardian's app shows them (masked)."""

    id: int
    member_name: str
    member_id_number: str
    relation: str
    relation_name: str
    status: str
    status_name: str
    consent: str
    created_at: datetime
    ecard_status: str | None


class FamilyRequestOut(BaseModel):
    """A binding as the family member (or a clerk) sees it."""

    id: int
    guardian_name: str
    guardian_id_number: str
    member_name: str
    member_id_number: str
    relation: str
    relation_name: str
    status: str
    status_name: str
    consent: str
    created_at: datetime


class FamilyLookupIn(Input):
    member_id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]


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
