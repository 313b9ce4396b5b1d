"""Scan login against a real database: tickets, confirmation, one read, expiry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session
from tests.integration.ecard.test_online_support import (
    Holder,
    app_channel,
    holder,
    signer,
    wallet,
)

from sscard.db import utcnow
from sscard.ecard.errors import CardSuspended
from sscard.ecard.oauth import service as oauth
from sscard.ecard.oauth.errors import OAuthError
from sscard.ecard.oauth.schemas import ClientIn, ClientOut
from sscard.ecard.scanlogin import service as scanlogin
from sscard.ecard.scanlogin.errors import LoginTicketExpired, LoginTicketNotFound, LoginTicketUsed
from sscard.ecard.scanlogin.models import LoginTicket
from sscard.ecard.schemas import ResidentSessionOut
from sscard.iam import service as iam_service
from sscard.issuance.cards import service as issuance
from sscard.kit.context import Actor

__all__ = ["app_channel", "holder", "signer", "wallet"]

Wallet = Callable[[Holder], ResidentSessionOut]


def _portal(session: Session, *scopes: str, scan: bool = True) -> ClientOut:
    inst = iam_service.ensure_platform_institution(session).code
    data = ClientIn(
        name="市政务服务网",
        institution_code=inst,
        scopes=list(scopes or ("profile",)),  # type: ignore[arg-type]
        grant_types=["scan_login"] if scan else ["authorization_code"],
        redirect_uris=[] if scan else ["https://portal.example.cn/cb"],
    )
    return oauth.register_client(session, data=data)[0]


def test_the_qr_text_names_the_ticket() -> None:
    ticket_id = scanlogin.new_ticket_id()
    assert len(ticket_id) == 26 and ticket_id.isupper()
    text = scanlogin.qr_text(ticket_id)
    assert text == "ELT" + ticket_id
    assert scanlogin.ticket_id_from_qr(f"  {text} ") == ticket_id
    assert scanlogin.ticket_id_from_qr("EC" + ticket_id) is None
    assert scanlogin.ticket_id_from_qr(text + "A") is None


def test_a_confirmed_ticket_tells_the_portal_who_logged_in_exactly_once(
    session: Session, holder: Callable[..., Holder], wallet: Wallet
) -> None:
    who = holder()
    portal = _portal(session, "profile", "identity")
    ticket = scanlogin.create_ticket(session, client=portal, scope="profile identity")
    assert ticket.expires_in == 120 and ticket.qr_text.startswith("ELT")
    pending = scanlogin.poll(session, ticket_id=ticket.ticket_id, client=portal)
    assert (pending.status, pending.identity) == ("pending", None)
    seen = scanlogin.preview(session, ticket_id=ticket.ticket_id)
    assert seen.client_name == "市政务服务网"
    assert [s.scope for s in seen.scopes] == ["profile", "identity"]
    confirmed = scanlogin.confirm(session, ticket_id=ticket.ticket_id, resident=wallet(who))
    assert confirmed.status == "confirmed"
    first = scanlogin.poll(session, ticket_id=ticket.ticket_id, client=portal)
    assert first.status == "confirmed" and first.identity is not None
    assert first.identity["id_number"] == who.id_number
    assert first.identity["name_masked"] == "测***"
    second = scanlogin.poll(session, ticket_id=ticket.ticket_id, client=portal)
    assert (second.status, second.identity) == ("used", None)
    with pytest.raises(LoginTicketUsed):
        scanlogin.confirm(session, ticket_id=ticket.ticket_id, resident=wallet(who))


def test_only_the_portal_that_asked_may_poll_and_only_clients_with_scan_login_may_ask(
    session: Session,
) -> None:
    portal, other = _portal(session), _portal(session)
    ticket = scanlogin.create_ticket(session, client=portal, scope=None)
    with pytest.raises(LoginTicketNotFound):
        scanlogin.poll(session, ticket_id=ticket.ticket_id, client=other)
    with pytest.raises(OAuthError) as refused:
        scanlogin.create_ticket(session, client=_portal(session, scan=False), scope=None)
    assert refused.value.code == "unauthorized_client"
    with pytest.raises(OAuthError) as scope:
        scanlogin.create_ticket(session, client=portal, scope="identity")
    assert scope.value.code == "invalid_scope"


def test_a_ticket_expires_after_two_minutes(
    session: Session, holder: Callable[..., Holder], wallet: Wallet
) -> None:
    portal = _portal(session)
    ticket = scanlogin.create_ticket(session, client=portal, scope=None)
    row = session.get(LoginTicket, ticket.ticket_id)
    assert row is not None
    assert timedelta(seconds=119) < row.expires_at - row.created_at <= timedelta(seconds=120)
    row.expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(LoginTicketExpired):
        scanlogin.preview(session, ticket_id=ticket.ticket_id)
    with pytest.raises(LoginTicketExpired):
        scanlogin.confirm(session, ticket_id=ticket.ticket_id, resident=wallet(holder()))
    assert scanlogin.poll(session, ticket_id=ticket.ticket_id, client=portal).status == "expired"


def test_a_confirmed_ticket_not_read_in_time_expires_too(
    session: Session, holder: Callable[..., Holder], wallet: Wallet
) -> None:
    portal = _portal(session)
    ticket = scanlogin.create_ticket(session, client=portal, scope=None)
    scanlogin.confirm(session, ticket_id=ticket.ticket_id, resident=wallet(holder()))
    row = session.get(LoginTicket, ticket.ticket_id)
    assert row is not None
    row.expires_at = utcnow() - timedelta(seconds=1)
    late = scanlogin.poll(session, ticket_id=ticket.ticket_id, client=portal)
    assert (late.status, late.identity) == ("expired", None)


def test_a_refused_login_and_a_suspended_ecard(
    session: Session, holder: Callable[..., Holder], wallet: Wallet, signer: Actor
) -> None:
    portal = _portal(session)
    who = holder()
    resident = wallet(who)
    ticket = scanlogin.create_ticket(session, client=portal, scope=None)
    scanlogin.refuse(session, ticket_id=ticket.ticket_id, resident=resident)
    assert scanlogin.poll(session, ticket_id=ticket.ticket_id, client=portal).status == "refused"
    issuance.report_loss(session, card_ref=who.card.id, temporary=True, actor=signer)
    fresh = scanlogin.create_ticket(session, client=portal, scope=None)
    with pytest.raises(CardSuspended):
        scanlogin.confirm(session, ticket_id=fresh.ticket_id, resident=resident)
    with pytest.raises(LoginTicketNotFound):
        scanlogin.preview(session, ticket_id="A" * 26)
