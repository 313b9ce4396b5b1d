"""Tables of the e-card's online authorisation: registered clients,
authorisation codes and access tokens. Codes and tokens are stored as SM3
hashes; the raw values exist only in the client's hands."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK


class OAuthClient(Base):
    """A channel app, partner or government portal allowed to ask for a resident's consent."""

    __tablename__ = "ecard_oauth_client"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(40), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    institution_code: Mapped[str] = mapped_column(String(32))
    channel_code: Mapped[str | None] = mapped_column(String(32))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Exact URIs a code may be sent to (compared character for character)."""
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    """The most the client may ask for: profile, identity, card, insurance."""
    grant_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    """authorization_code and/or scan_login."""
    status: Mapped[str] = mapped_column(String(16))
    """active or disabled."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OAuthCode(Base):
    """An authorisation code: 60 seconds, single use, bound to the PKCE challenge."""

    __tablename__ = "ecard_oauth_code"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(40))
    person_id: Mapped[str] = mapped_column(String(26))
    ecard_id: Mapped[str] = mapped_column(ForeignKey("ecard_card.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    code_challenge: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class OAuthToken(Base):
    """An opaque access token (10 minutes) answering the userinfo endpoint."""

    __tablename__ = "ecard_oauth_token"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(40))
    person_id: Mapped[str] = mapped_column(String(26), index=True)
    ecard_id: Mapped[str] = mapped_column(ForeignKey("ecard_card.id", ondelete="CASCADE"))
    code_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    """The code it was issued for: a replayed code revokes its tokens."""
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
