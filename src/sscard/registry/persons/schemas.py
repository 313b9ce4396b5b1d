"""Person input and output. Inputs forbid unknown fields; outputs are masked by default."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from sscard.kit.bounds import RowId, Version
from sscard.registry.schemas import Code, Input, NamedCode, Text
from sscard.registry.units.schemas import CommunityRef, EmployerRef


class EnrolmentIn(Input):
    insurance_type: Code
    status: Code = "enrolled"
    start_date: date
    end_date: date | None = None


class PersonCreate(Input):
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
    document_type: Code = "01"
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]
    gender: Code
    ethnicity: Code = "01"
    birth_date: date
    nationality: Annotated[str, StringConstraints(strip_whitespace=True, max_length=3)] = "CHN"
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = None
    address: Text | None = None
    household_region_code: Code
    residence_region_code: Code
    employer_id: RowId | None = None
    community_code: Code | None = None
    enrolments: list[EnrolmentIn] = Field(default_factory=list, max_length=20)


class PersonUpdate(Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    gender: Code | None = None
    ethnicity: Code | None = None
    birth_date: date | None = None
    nationality: Annotated[str, StringConstraints(strip_whitespace=True, max_length=3)] | None = (
        None
    )
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = None
    address: Text | None = None
    household_region_code: Code | None = None
    residence_region_code: Code | None = None
    employer_id: RowId | None = None
    community_code: Code | None = None
    enrolments: list[EnrolmentIn] | None = Field(default=None, max_length=20)
    version: Version | None = Field(default=None, description="The version read; refused if stale.")


class DeathIn(Input):
    death_date: date
    source: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] = "counter"


class RevealIn(Input):
    purpose: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]


class EnrolmentOut(BaseModel):
    insurance_type: NamedCode
    status: NamedCode
    start_date: date
    end_date: date | None


class PersonOut(BaseModel):
    """A person as counters see them: masked unless revealed with a stated purpose."""

    id: str
    masked: bool
    id_number: str
    document_type: NamedCode
    name: str
    gender: NamedCode
    ethnicity: NamedCode
    birth_date: date
    nationality: str
    phone: str | None
    address: str | None
    household_region: NamedCode
    residence_region: NamedCode
    employer: EmployerRef | None
    community: CommunityRef | None
    status: NamedCode
    death_date: date | None
    enrolments: list[EnrolmentOut]
    has_photo: bool
    version: int
    created_at: datetime
    updated_at: datetime


class PersonSummary(BaseModel):
    id: str
    id_number: str
    name: str
    gender: NamedCode
    birth_date: date
    residence_region: NamedCode
    employer: EmployerRef | None
    community: CommunityRef | None
    status: NamedCode


class PersonPage(BaseModel):
    items: list[PersonSummary]
    total: int
    page: int
    page_size: int
