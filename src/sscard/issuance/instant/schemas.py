"""Instant card making and province input and output."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from sscard.issuance.cards.schemas import CardOut, Input, NamedStatus
from sscard.registry.persons.schemas import PersonCreate


class TransferIn(Input):
    to_region_code: Annotated[str, StringConstraints(pattern=r"^\d{6}$")]


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

    card_id_code: Annotated[
        str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=32, max_length=32)
    ]
    atr: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, max_length=64)]
    bank_account: Annotated[str, StringConstraints(strip_whitespace=True, max_length=19)]
    issue_date: date | None = None
    expiry_date: date | None = None


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
