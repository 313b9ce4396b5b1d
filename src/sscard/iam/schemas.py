from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from sscard.iam.catalog import ChannelType, InstitutionType

Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_-]{2,32}$")]
RegionCode = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Username = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z0-9_.-]{3,64}$")
]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InstitutionCreate(Input):
    code: Code
    name: Name
    type: InstitutionType
    region_code: RegionCode
    parent_code: Code | None = None


class InstitutionOut(BaseModel):
    id: int
    code: str
    name: str
    type: str
    type_name: str
    region_code: str
    parent_code: str | None
    status: str


class ChannelCreate(Input):
    code: Code
    name: Name
    type: ChannelType
    owner_institution_code: Code


class ChannelStatusChange(Input):
    status: Annotated[str, StringConstraints(pattern=r"^(active|suspended)$")]


class ChannelOut(BaseModel):
    id: int
    code: str
    name: str
    type: str
    type_name: str
    owner_institution_code: str
    status: str


class OperatorCreate(Input):
    username: Username
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    institution_code: Code
    roles: list[str] = Field(min_length=1, max_length=10)
    password: SecretStr


class OperatorUpdate(Input):
    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None
    ) = None
    roles: list[str] | None = Field(default=None, min_length=1, max_length=10)
    status: Annotated[str, StringConstraints(pattern=r"^(active|disabled)$")] | None = None


class PasswordReset(Input):
    password: SecretStr


class PasswordChange(Input):
    old_password: SecretStr
    new_password: SecretStr


class OperatorOut(BaseModel):
    id: int
    username: str
    name: str
    institution_code: str
    institution_name: str
    roles: list[str]
    status: str
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_at: datetime
    expires_in: int


class RoleOut(BaseModel):
    code: str
    name: str
    description: str
    permissions: list[str]


class PermissionOut(BaseModel):
    code: str
    description: str


class MeOut(BaseModel):
    username: str
    name: str
    institution_code: str | None
    institution_name: str | None
    region_code: str | None
    roles: list[str]
    permissions: list[str]
