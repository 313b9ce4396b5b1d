"""Issuance input and output."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

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
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class TransferIn(Input):
    to_region_code: Annotated[str, StringConstraints(pattern=r"^\d{6}$")]


class NamedStatus(BaseModel):
    code: str
    name: str


class CardEventOut(BaseModel):
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
    to_place: str
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


# ---- instant card making, one-step activation, bank change, the province -------------


class InstantAccountIn(Input):
    """Open a card account at a bank branch (开户, the first call of 即时制卡).

    ``replacement_reason`` makes it an instant replacement (即时补换卡): the applicant's live
    card of the same bank is cancelled and the new one created in the same transaction.
    """

    id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
    person: PersonCreate | None = None
    generation: Literal[2, 3] = 3
    replacement_reason: Literal["lost", "damaged", "expired", "info_change"] | None = None


class InstantAccountOut(BaseModel):
    """What the branch needs to personalise the card; the holder's data masked (the branch
    has the applicant and the ID card in front of it)."""

    card_id: str
    card_number: str
    status: NamedStatus
    kind: str
    holder_id_number: str
    holder_name: str
    region_code: str
    bank_code: str
    generation: int
    photo_url: str
    replaces_card_number: str | None


class InstantMadeIn(Input):
    """What the branch printed: the chip's identification code and ATR, and the account."""

    card_id_code: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True,
                                                   min_length=32, max_length=32)]  # fmt: skip
    atr: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, max_length=64)]
    bank_account: Annotated[str, StringConstraints(strip_whitespace=True, max_length=19)]
    issue_date: date | None = None
    expiry_date: date | None = None


class ActivationStepOut(BaseModel):
    step: str
    name: str
    status: str
    status_name: str
    run: int
    last_error: str | None
    updated_at: datetime


class ActivationOut(BaseModel):
    """Progress of one-step activation (一站式启用): none, pending, done, failed or
    compensating (failed, undoing the steps already done)."""

    card_id: str
    card_number: str | None
    card_status: NamedStatus
    status: str
    status_name: str
    reason: str | None
    steps: list[ActivationStepOut]


class BankChangeIn(Input):
    bank_code: Code
    note: Note = ""


class OffsiteIn(Input):
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]


class ProvinceCancelIn(Input):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]


class ProvinceCardOut(BaseModel):
    """A card as the province records it (个人省厅卡信息)."""

    card_number: str
    card_id_code: str
    holder_name: str
    region_code: str
    managing_region_code: str
    status: str
    status_name: str
    bank_code: str
    generation: int
    issue_date: date | None
    expiry_date: date | None
    local: bool
    """Whether this platform has a record of the card (its own, or downloaded)."""


class PersonCardsOut(BaseModel):
    """A person's local cards and the province's records of their cards."""

    local: list[CardOut]
    provincial: list[ProvinceCardOut]
    provincial_error: str | None
    """Why the province could not be asked (the local part is still shown)."""


class BalanceOut(BaseModel):
    card_number: str
    bank_code: str
    bank_account: str
    balance_fen: int
    available_fen: int
    currency: str
    as_of: datetime


class BankTransactionOut(BaseModel):
    occurred_at: datetime
    amount_fen: int
    balance_fen: int
    kind: str
    description: str


class LapseOut(BaseModel):
    lapsed: int
