"""Online authorisation: clients, tokens and the scopes a consent names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from sscard.ecard.schemas import Code, Input

ScopeName = Literal["profile", "identity", "card", "insurance"]
GrantType = Literal["authorization_code", "scan_login"]


class ClientIn(Input):
    """A client of online authorisation or scan login, registered by an administrator."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    institution_code: Code
    channel_code: Code | None = None
    redirect_uris: Annotated[
        list[Annotated[str, StringConstraints(max_length=500)]], Field(max_length=10)
    ] = []
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


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A checked authorisation request, as the consent page shows it."""

    client_id: str
    client_name: str
    institution_name: str | None
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    code_challenge: str

    def params(self) -> dict[str, str]:
        """The request as query parameters (the consent form sends them back)."""
        values = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": " ".join(self.scopes),
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
        }
        if self.state is not None:
            values["state"] = self.state
        return values
