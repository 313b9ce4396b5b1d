"""Employer and community input and output."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, StringConstraints

from sscard.registry.schemas import Code, Input, NamedCode, Text


class EmployerRef(BaseModel):
    id: int
    credit_code: str
    name: str


class CommunityRef(BaseModel):
    code: str
    name: str


class EmployerCreate(Input):
    credit_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
    region_code: Code
    address: Text = ""
    contact_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] = ""
    contact_phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] = ""


class EmployerUpdate(Input):
    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
        | None
    ) = None
    region_code: Code | None = None
    address: Text | None = None
    contact_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = (
        None
    )
    contact_phone: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None
    ) = None
    status: Annotated[str, StringConstraints(pattern=r"^(active|closed)$")] | None = None


class EmployerOut(BaseModel):
    id: int
    credit_code: str
    name: str
    region: NamedCode
    address: str
    contact_name: str
    contact_phone: str
    status: str
    persons: int


class CommunityCreate(Input):
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{12}$")]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)]


class CommunityOut(BaseModel):
    code: str
    township: NamedCode
    name: str
    region: NamedCode
    persons: int
