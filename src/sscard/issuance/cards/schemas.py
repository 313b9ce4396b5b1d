"""Card input and output: applications, lifecycle operations, PINs, handover, ranges."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from sscard.kit.bounds import Count
from sscard.registry.persons.schemas import PersonCreate

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Pin = Annotated[SecretStr, Field(description="6 digits")]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApplicationIn(Input):
    """A card application (制卡申请); ``person`` registers the applicant in the same step."""

    id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
    person: PersonCreate | None = None
    source: Literal["counter", "bank", "online", "employer"] = "counter"
    mode: Literal["batch", "instant"] = "batch"
    bank_code: Code
    generation: Literal[2, 3] = 3
    pickup_place: Code | None = None


class ReplacementIn(Input):
    reason: Literal["lost", "damaged", "expired", "info_change"]
    mode: Literal["batch", "instant"] = "batch"
    bank_code: Code | None = None
    pickup_place: Code | None = None


class LossIn(Input):
    temporary: bool = False
    note: Note = ""


class NoteIn(Input):
    note: Note = ""


class CancelIn(Input):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]


class PinSetIn(Input):
    pin: Pin


class PinChangeIn(Input):
    old_pin: Pin
    new_pin: Pin


class PinResetIn(Input):
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
    new_pin: Pin


class PinVerifyIn(Input):
    pin: Pin


class HandoverIn(Input):
    """Move a card (by card number) or a whole box (by box code) to a new place."""

    card_number: Code | None = None
    box_code: Code | None = None
    to_place: Code
    handler: Code
    receiver: Code
    note: Note = ""


class RangeIn(Input):
    region_code: Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
    prefix: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{1,4}$")]
    start: Count
    end: Count


class NamedStatus(BaseModel):
    code: str
    name: str


class CardEventOut(BaseModel):
    id: int
    action: str
    action_name: str
    from_status: str | None
    to_status: str
    to_status_name: str
    actor_id: str
    actor_name: str | None
    institution_code: str | None
    detail: dict[str, Any]
    occurred_at: datetime


class CardOut(BaseModel):
    id: str
    person_id: str
    holder_id_number: str
    holder_name: str
    card_number: str | None
    card_id_code: str | None
    status: NamedStatus
    kind: str
    reason: str | None
    source: str
    mode: str
    generation: int
    region_code: str
    managing_region_code: str
    bank_code: str
    bank_account: str | None
    pickup_place: str | None
    location: str | None
    box_code: str | None
    box_position: int | None
    batch_no: str | None
    issue_date: date | None
    expiry_date: date | None
    is_offsite: bool
    pin_set: bool
    pin_locked: bool
    bank_account_active: bool
    transport_enabled: bool
    replaces_card_id: str | None
    replaced_by_card_id: str | None
    allowed_actions: list[str]
    applied_at: datetime
    activated_at: datetime | None
    cancelled_at: datetime | None
    version: int


class CardDetail(CardOut):
    timeline: list[CardEventOut]


class HandoverOut(BaseModel):
    id: int
    card_number: str | None
    box_code: str | None
    from_place: str
    from_place_name: str
    """The place's name (institution, 持卡人, or 未登记地点 when never recorded)."""
    to_place: str
    to_place_name: str
    handler: str
    receiver: str
    note: str
    handed_at: datetime


class RangeOut(BaseModel):
    id: int
    region_code: str
    prefix: str
    next_value: int
    last_value: int
    remaining: int
    status: str


class CountRow(BaseModel):
    key: str
    name: str
    count: int


class LapseOut(BaseModel):
    lapsed: int


class ReceiptOut(BaseModel):
    """A counter receipt (柜面业务回执) of one card operation, as printed: personal data
    masked as on screen, the time in Beijing time, an SM3 digest over every printed line."""

    receipt_no: str
    operation: str
    card_number: str
    holder_name: str
    holder_id_number: str
    occurred_at: datetime
    beijing_time: str
    hall: str
    clerk: str
    note: str
    digest: str
