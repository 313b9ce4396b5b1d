"""Scan login: the ticket a portal shows, the wallet's preview, the portal's poll."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints

from sscard.ecard.oauth.schemas import ScopeOut
from sscard.ecard.schemas import Input


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
