"""Every query of online authorisation: clients, codes and tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sscard.ecard.oauth.models import OAuthClient, OAuthCode, OAuthToken


def client(session: Session, client_id: str) -> OAuthClient | None:
    return session.scalars(select(OAuthClient).where(OAuthClient.client_id == client_id)).first()


def clients(session: Session) -> list[OAuthClient]:
    return list(session.scalars(select(OAuthClient).order_by(OAuthClient.id)))


def add_client(session: Session, row: OAuthClient) -> OAuthClient:
    session.add(row)
    session.flush()
    return row


def add_code(session: Session, row: OAuthCode) -> None:
    session.add(row)


def code_by_hash(session: Session, code_hash: str) -> OAuthCode | None:
    return session.scalars(select(OAuthCode).where(OAuthCode.code_hash == code_hash)).first()


def claim_code(session: Session, code_id: int, at: datetime) -> bool:
    """Mark a code used unless it already was; whether this call did."""
    claimed = session.execute(
        update(OAuthCode)
        .where(OAuthCode.id == code_id, OAuthCode.used_at.is_(None))
        .values(used_at=at)
    )
    return getattr(claimed, "rowcount", 0) == 1


def revoke_tokens_of_code(session: Session, code_id: int, at: datetime) -> None:
    session.execute(
        update(OAuthToken)
        .where(OAuthToken.code_id == code_id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=at)
    )


def add_token(session: Session, row: OAuthToken) -> None:
    session.add(row)


def token_by_hash(session: Session, token_hash: str) -> OAuthToken | None:
    return session.scalars(select(OAuthToken).where(OAuthToken.token_hash == token_hash)).first()
