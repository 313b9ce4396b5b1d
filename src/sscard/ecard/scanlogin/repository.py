"""Every query of scan login: the tickets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sscard.ecard.scanlogin.models import LoginTicket


def add(session: Session, ticket: LoginTicket) -> None:
    session.add(ticket)
    session.flush()


def ticket(session: Session, ticket_id: str) -> LoginTicket | None:
    return session.get(LoginTicket, ticket_id)


def ticket_of_client(session: Session, ticket_id: str, client_id: str) -> LoginTicket | None:
    stmt = select(LoginTicket).where(
        LoginTicket.id == ticket_id, LoginTicket.client_id == client_id
    )
    return session.scalars(stmt).first()


def confirm(
    session: Session,
    ticket: LoginTicket,
    *,
    person_id: str,
    ecard_id: str,
    channel_code: str,
    at: datetime,
) -> bool:
    """Confirm a pending ticket; whether this call did (the ticket is refreshed)."""
    claimed = session.execute(
        update(LoginTicket)
        .where(LoginTicket.id == ticket.id, LoginTicket.status == "pending")
        .values(
            status="confirmed",
            person_id=person_id,
            ecard_id=ecard_id,
            channel_code=channel_code,
            confirmed_at=at,
        )
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return False
    session.refresh(ticket)
    return True


def take(session: Session, ticket_id: str, at: datetime) -> bool:
    """Mark a confirmed ticket used; whether this call did."""
    taken = session.execute(
        update(LoginTicket)
        .where(LoginTicket.id == ticket_id, LoginTicket.status == "confirmed")
        .values(status="used", used_at=at)
    )
    return getattr(taken, "rowcount", 0) == 1
