"""Scan login (扫码登录) for government portals.

Design overview
===============
1. A portal (a registered client with the ``scan_login`` grant) asks for a ticket
   (:func:`create_ticket`) and shows its QR: ``ELT`` + the ticket id (26 characters of the
   QR alphanumeric set). The ticket lives two minutes.
2. The resident scans it in the wallet, which asks :func:`preview` (the portal's name and
   what it will learn) and then :func:`confirm` (or :func:`refuse`) with the resident's
   session. A ticket is confirmed at most once.
3. The portal polls (:func:`poll`, or a long poll the API runs in short transactions). The
   first poll after the confirmation consumes the ticket and returns the identity the
   scopes allow; every later poll says ``used``. Only the portal that asked for the ticket
   may poll it, with its client credentials, so a ticket id alone reveals nothing.

States: ``pending`` -> ``confirmed`` -> ``used``, or ``pending`` -> ``refused``; any
ticket not used by ``expires_at`` reads as ``expired``.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.ecard import records as ecard_records
from sscard.ecard import service as ecard_service
from sscard.ecard.errors import CardRevoked, CardSuspended
from sscard.ecard.oauth import service as oauth_service
from sscard.ecard.oauth.errors import OAuthError
from sscard.ecard.oauth.rules import allowed_scopes, parse_scope, scope_list
from sscard.ecard.oauth.schemas import ClientOut
from sscard.ecard.scanlogin import repository
from sscard.ecard.scanlogin.errors import LoginTicketExpired, LoginTicketNotFound, LoginTicketUsed
from sscard.ecard.scanlogin.models import LoginTicket
from sscard.ecard.scanlogin.schemas import LoginTicketOut, LoginTicketPreview, LoginTicketStatus
from sscard.ecard.schemas import ResidentSessionOut

TICKET_SECONDS = 120
QR_PREFIX = "ELT"
MAX_WAIT_SECONDS = 30
STATUS_NAMES = {
    "pending": "等待扫码确认",
    "confirmed": "已确认",
    "refused": "已拒绝",
    "used": "已登录",
    "expired": "已过期",
}


def new_ticket_id() -> str:
    """128 random bits in base32 (26 characters, QR alphanumeric)."""
    return base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=")


def qr_text(ticket_id: str) -> str:
    """What the portal's QR carries."""
    return QR_PREFIX + ticket_id


def ticket_id_from_qr(text: str) -> str | None:
    """The ticket id in a scanned text, or None when it is not a login QR."""
    text = text.strip()
    if not text.startswith(QR_PREFIX) or len(text) != len(QR_PREFIX) + 26:
        return None
    ticket_id = text[len(QR_PREFIX) :]
    return ticket_id if ticket_id.isalnum() and ticket_id.isupper() else None


def status_of(ticket: LoginTicket, now: datetime | None = None) -> str:
    """The ticket's state as seen now (``expired`` once unused past its time)."""
    if ticket.status != "used" and ticket.expires_at <= (now or utcnow()):
        return "expired"
    return ticket.status


def create_ticket(session: Session, *, client: ClientOut, scope: str | None) -> LoginTicketOut:
    """A portal's login ticket (two minutes) and the text of its QR."""
    if "scan_login" not in client.grant_types:
        raise OAuthError("unauthorized_client", "该应用未开通扫码登录")
    scopes = allowed_scopes(parse_scope(scope or "profile"), list(client.scopes))
    now = utcnow()
    ticket = LoginTicket(
        id=new_ticket_id(),
        client_id=client.client_id,
        scopes=scopes,
        status="pending",
        created_at=now,
        expires_at=now + timedelta(seconds=TICKET_SECONDS),
    )
    repository.add(session, ticket)
    return LoginTicketOut(
        ticket_id=ticket.id,
        qr_text=qr_text(ticket.id),
        expires_at=ticket.expires_at,
        expires_in=TICKET_SECONDS,
    )


def _ticket(session: Session, ticket_id: str) -> LoginTicket:
    found = repository.ticket(session, ticket_id.strip().upper()[:32])
    if found is None:
        raise LoginTicketNotFound()
    return found


def _preview(session: Session, ticket: LoginTicket) -> LoginTicketPreview:
    client = oauth_service.get_client(session, client_id=ticket.client_id)
    return LoginTicketPreview(
        ticket_id=ticket.id,
        client_name=client.name,
        institution_name=oauth_service.institution_name(session, client),
        scopes=scope_list(list(ticket.scopes)),
        status=status_of(ticket),
        expires_at=ticket.expires_at,
    )


def preview(session: Session, *, ticket_id: str) -> LoginTicketPreview:
    """What the wallet shows after the scan: which portal, what it will learn."""
    ticket = _ticket(session, ticket_id)
    if status_of(ticket) == "expired":
        raise LoginTicketExpired()
    return _preview(session, ticket)


def _pending(session: Session, ticket_id: str) -> LoginTicket:
    ticket = _ticket(session, ticket_id)
    state = status_of(ticket)
    if state == "expired":
        raise LoginTicketExpired()
    if state != "pending":
        raise LoginTicketUsed()
    return ticket


def confirm(
    session: Session, *, ticket_id: str, resident: ResidentSessionOut
) -> LoginTicketPreview:
    """The resident confirms in the wallet: the portal may now learn who logged in."""
    ticket = _pending(session, ticket_id)
    ecard = ecard_service.get_ecard_of_person(session, person_id=resident.person_id)
    if ecard.status == "suspended":
        raise CardSuspended()
    if ecard.status != "active":
        raise CardRevoked()
    confirmed = repository.confirm(
        session,
        ticket,
        person_id=resident.person_id,
        ecard_id=ecard.id,
        channel_code=resident.channel_code,
        at=utcnow(),
    )
    if not confirmed:
        raise LoginTicketUsed()
    ecard_records.record_usage(
        session,
        ecard_id=ecard.id,
        copy_id=None,
        kind="scan_login",
        business=None,
        scenario_code=None,
        actor_id=resident.person_id,
        outcome="confirmed",
    )
    ecard_records.record_about(
        session, "ecard.scanlogin.confirm", resident.person_id, {"client": ticket.client_id}
    )
    return _preview(session, ticket)


def refuse(session: Session, *, ticket_id: str, resident: ResidentSessionOut) -> LoginTicketPreview:
    """The resident declines: the portal learns only that the login was refused."""
    ticket = _pending(session, ticket_id)
    ticket.status = "refused"
    ecard_records.record_about(
        session,
        "ecard.scanlogin.refuse",
        resident.person_id,
        {"client": ticket.client_id},
        outcome="denied",
    )
    session.flush()
    return _preview(session, ticket)


def poll(session: Session, *, ticket_id: str, client: ClientOut) -> LoginTicketStatus:
    """The ticket's state for the portal that asked for it; the identity exactly once."""
    ticket = repository.ticket_of_client(session, ticket_id.strip().upper()[:32], client.client_id)
    if ticket is None:
        raise LoginTicketNotFound()
    state = status_of(ticket)
    out = LoginTicketStatus(ticket_id=ticket.id, status=state, expires_at=ticket.expires_at)
    if state != "confirmed" or ticket.person_id is None:
        return out
    if not repository.take(session, ticket.id, utcnow()):
        return out.model_copy(update={"status": "used"})
    identity = oauth_service.disclose(
        session,
        person_id=ticket.person_id,
        ecard_id=ticket.ecard_id,
        client_id=client.client_id,
        scopes=list(ticket.scopes),
    )
    ecard_records.record_about(
        session,
        "ecard.scanlogin.login",
        ticket.person_id,
        {"client": client.client_id},
        fields=tuple(k for k in identity if k != "sub"),
    )
    return out.model_copy(update={"status": "confirmed", "identity": identity})
