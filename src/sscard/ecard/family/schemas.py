"""Family service: binding a member, as the guardian, the member and a clerk see it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from sscard.ecard.schemas import Input


class FamilyBindIn(Input):
    member_id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
    member_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
    ]
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
