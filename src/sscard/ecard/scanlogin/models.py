"""Scan login table: the tickets portals show as QR codes. Tickets name the resident only
after they confirm in the wallet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base


class LoginTicket(Base):
    """A scan-login ticket a portal shows as a QR (扫码登录): two minutes, used once."""

    __tablename__ = "ecard_login_ticket"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16))
    """pending, confirmed (by the resident), refused, or used (the portal has read it)."""
    person_id: Mapped[str | None] = mapped_column(String(26))
    ecard_id: Mapped[str | None] = mapped_column(String(26))
    channel_code: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_ecard_login_ticket_expires_at", "expires_at"),)
