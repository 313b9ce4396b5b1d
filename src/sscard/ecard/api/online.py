"""E-card online routes: my insurance and access log, online authorisation (OAuth 2.0 with
PKCE), scan login for portals, family service and credential display.

Who calls what: resident endpoints take the e-card session token (``ser_...``) from
``POST /api/v1/ecard/sessions``; clients (partners, portals) authenticate with HTTP Basic
``client_id:client_secret``; administrators and clerks use their operator token.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from typing import Annotated
from urllib.parse import unquote_plus, urlencode

from fastapi import APIRouter, Body, Depends, Form, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse

from sscard import db
from sscard.ecard import credentials, family, oauth, online, scanlogin
from sscard.ecard.api.codes import Resident
from sscard.ecard.oauth_models import OAuthClient
from sscard.ecard.schemas import (
    AccessLogPage,
    ClientCreated,
    ClientIn,
    ClientOut,
    CodeOut,
    CredentialCheck,
    CredentialIn,
    CredentialOut,
    FamilyBindIn,
    FamilyLookupIn,
    FamilyMemberOut,
    FamilyRequestOut,
    InsuranceOut,
    LoginTicketIn,
    LoginTicketOut,
    LoginTicketPreview,
    LoginTicketStatus,
    NotAvailableOut,
    TokenOut,
)
from sscard.errors import SSCardError
from sscard.httpkit.deps import DbSession, bearer_token, require
from sscard.kit import context
from sscard.kit.context import Actor, ActorKind
from sscard.kit.guard import get_guard

router = APIRouter(prefix="/ecard", tags=["e-card online"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
POLL_INTERVAL = 0.5
ANONYMOUS = Actor(kind=ActorKind.system, id="anonymous", name="匿名核验方")
"""Whoever checks a credential without logging in."""
Manager = Annotated[Actor, Depends(require("ecard.manage"))]
Business = Annotated[int, Query(ge=1, le=4, description="1 查询, 2 支付, 3 其他, 4 异地就医")]


def _throttle(request: Request, session: DbSession, what: str, limit: int) -> None:
    client = request.client.host if request.client else "unknown"
    decision = get_guard(session, namespace="ecard-rate").hit(
        f"{what}:{client}", limit=limit, window_seconds=60
    )
    if not decision.allowed:
        raise SSCardError(
            f"操作过于频繁，请 {decision.retry_after_seconds} 秒后再试",
            status_code=429,
            code="too_many_requests",
        )


# ---- online services -----------------------------------------------------------------


@router.get("/me/insurance", response_model=InsuranceOut)
def my_insurance(resident: Resident, session: DbSession) -> InsuranceOut:
    """My insurance enrolments (参保信息) from the cardholder registry."""
    return online.my_insurance(session, person_id=resident.person_id)


@router.get("/me/benefits", response_model=NotAvailableOut)
def my_benefits(_resident: Resident) -> NotAvailableOut:
    """My benefits (待遇): supplied by a later component; says so plainly."""
    return online.not_yet("benefits")


@router.get("/me/rights", response_model=NotAvailableOut)
def my_rights(_resident: Resident) -> NotAvailableOut:
    """My rights records (权益记录): supplied by a later component; says so plainly."""
    return online.not_yet("rights")


@router.get("/me/contributions", response_model=NotAvailableOut)
def my_contributions(_resident: Resident) -> NotAvailableOut:
    """My contributions (缴费记录): supplied by a later component; says so plainly."""
    return online.not_yet("contributions")


@router.get("/me/access-log", response_model=AccessLogPage)
def my_access_log(
    resident: Resident,
    session: DbSession,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=online.MAX_PAGE_SIZE)] = 20,
    include_self: bool = False,
) -> AccessLogPage:
    """Who accessed my data (from the audit log), newest first."""
    return online.access_log(
        session,
        person_id=resident.person_id,
        page=page,
        page_size=page_size,
        include_self=include_self,
    )


# ---- clients (administrators) --------------------------------------------------------


@router.post("/oauth/clients", response_model=ClientCreated, status_code=status.HTTP_201_CREATED)
def register_client(data: ClientIn, _actor: Manager, session: DbSession) -> ClientCreated:
    """Register a partner, channel app or portal; the secret is shown only here."""
    client, secret = oauth.register_client(session, data=data)
    return ClientCreated(client=oauth.client_out(client), client_secret=secret)


@router.get("/oauth/clients", response_model=list[ClientOut])
def list_clients(_actor: Manager, session: DbSession) -> list[ClientOut]:
    """Every registered client."""
    return [oauth.client_out(c) for c in oauth.list_clients(session)]


@router.post("/oauth/clients/{client_id}/disable", response_model=ClientOut)
def disable_client(client_id: str, _actor: Manager, session: DbSession) -> ClientOut:
    """Stop a client: its tokens and tickets stop working at once."""
    return oauth.client_out(
        oauth.set_client_status(session, client_id=client_id, status="disabled")
    )


@router.post("/oauth/clients/{client_id}/enable", response_model=ClientOut)
def enable_client(client_id: str, _actor: Manager, session: DbSession) -> ClientOut:
    return oauth.client_out(oauth.set_client_status(session, client_id=client_id, status="active"))


@router.post("/oauth/clients/{client_id}/secret", response_model=ClientCreated)
def rotate_secret(client_id: str, _actor: Manager, session: DbSession) -> ClientCreated:
    """A new client secret (shown once); the old one stops working."""
    client, secret = oauth.rotate_secret(session, client_id=client_id)
    return ClientCreated(client=oauth.client_out(client), client_secret=secret)


# ---- online authorisation ------------------------------------------------------------


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """(client_id, client_secret) from ``Authorization: Basic``, or None when absent."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise oauth.OAuthError("invalid_client", "Authorization: Basic 格式不正确") from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise oauth.OAuthError("invalid_client", "Authorization: Basic 格式不正确")
    return unquote_plus(client_id), unquote_plus(secret)


def _authenticated(session: DbSession, credentials: tuple[str, str] | None) -> OAuthClient:
    if credentials is None:
        raise oauth.OAuthError(
            "invalid_client", "须提供应用凭据（HTTP Basic client_id:client_secret）"
        )
    client = oauth.authenticate_client(session, client_id=credentials[0], secret=credentials[1])
    context.update(actor=oauth.client_actor(client))
    return client


def _client(request: Request, session: DbSession) -> OAuthClient:
    return _authenticated(session, basic_credentials(request))


Client = Annotated[OAuthClient, Depends(_client)]


@router.get("/oauth/authorize", response_class=RedirectResponse, status_code=303)
def authorize(request: Request, session: DbSession) -> RedirectResponse:
    """Check an authorisation request and send the browser to the consent page (or back to
    the client with an error once its redirect URI is known to be its own)."""
    params = dict(request.query_params)
    try:
        checked = oauth.check_authorization(session, params=params)
    except oauth.OAuthError as exc:
        if not exc.redirectable:
            raise
        target = oauth.error_redirect(params["redirect_uri"], exc, params.get("state"))
        return RedirectResponse(target, status_code=303)
    return RedirectResponse(f"{oauth.CONSENT_PATH}?{urlencode(checked.params())}", status_code=303)


@router.post("/oauth/token", response_model=TokenOut)
def token(
    request: Request,
    session: DbSession,
    grant_type: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    redirect_uri: Annotated[str, Form()] = "",
    code_verifier: Annotated[str, Form()] = "",
    client_id: Annotated[str, Form()] = "",
    client_secret: Annotated[str, Form()] = "",
) -> JSONResponse:
    """Exchange a code for an access token (RFC 6749 4.1.3 with the PKCE verifier)."""
    _throttle(request, session, "oauth-token", 600)
    credentials = basic_credentials(request)
    if credentials is None and client_id and client_secret:
        credentials = (client_id, client_secret)
    client = _authenticated(session, credentials)
    if grant_type != "authorization_code":
        raise oauth.OAuthError("unsupported_grant_type", "grant_type 须为 authorization_code")
    out = oauth.exchange(
        session, client=client, code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
    )
    return JSONResponse(out.model_dump(), headers=NO_STORE)


@router.get("/oauth/userinfo")
def userinfo(request: Request, session: DbSession) -> JSONResponse:
    """What the access token's scopes allow about the resident."""
    raw = bearer_token(request)
    if not raw or not oauth.is_access_token(raw):
        raise oauth.OAuthError("invalid_token", "须提供访问令牌（Authorization: Bearer oat_...）")
    found, client = oauth.resolve_token(session, raw=raw)
    context.update(actor=oauth.client_actor(client))
    return JSONResponse(oauth.userinfo(session, token=found), headers=NO_STORE)


# ---- scan login ----------------------------------------------------------------------


@router.post("/login-tickets", response_model=LoginTicketOut, status_code=status.HTTP_201_CREATED)
def create_login_ticket(
    client: Client,
    session: DbSession,
    data: Annotated[LoginTicketIn | None, Body()] = None,
) -> LoginTicketOut:
    """A portal asks for a login QR (two minutes, single use)."""
    return scanlogin.create_ticket(session, client=client, scope=data.scope if data else None)


@router.get("/login-tickets/{ticket_id}/preview", response_model=LoginTicketPreview)
def preview_login(ticket_id: str, _resident: Resident, session: DbSession) -> LoginTicketPreview:
    """After the scan: which portal asks, what it will learn."""
    return scanlogin.preview(session, ticket_id=ticket_id)


@router.post("/login-tickets/{ticket_id}/confirm", response_model=LoginTicketPreview)
def confirm_login(ticket_id: str, resident: Resident, session: DbSession) -> LoginTicketPreview:
    """The resident confirms the login in the wallet."""
    return scanlogin.confirm(session, ticket_id=ticket_id, resident=resident)


@router.post("/login-tickets/{ticket_id}/refuse", response_model=LoginTicketPreview)
def refuse_login(ticket_id: str, resident: Resident, session: DbSession) -> LoginTicketPreview:
    """The resident declines the login."""
    return scanlogin.refuse(session, ticket_id=ticket_id, resident=resident)


def _client_of(credentials: tuple[str, str] | None) -> tuple[str, Actor]:
    with db.transaction() as session:
        client = _authenticated(session, credentials)
        return client.client_id, oauth.client_actor(client)


def _poll_once(ticket_id: str, client_id: str) -> LoginTicketStatus:
    with db.transaction() as session:
        client = oauth.get_client(session, client_id=client_id)
        return scanlogin.poll(session, ticket_id=ticket_id, client=client)


async def wait_for_ticket(ticket_id: str, client_id: str, wait: int) -> LoginTicketStatus:
    """Poll in short transactions until the ticket leaves ``pending`` or ``wait`` runs out
    (no transaction stays open while waiting, so the confirmation is never blocked)."""
    deadline = time.monotonic() + max(0, min(wait, scanlogin.MAX_WAIT_SECONDS))
    while True:
        out = await run_in_threadpool(_poll_once, ticket_id, client_id)
        if out.status != "pending" or time.monotonic() >= deadline:
            return out
        await asyncio.sleep(POLL_INTERVAL)


@router.get("/login-tickets/{ticket_id}", response_model=LoginTicketStatus)
async def poll_login(
    ticket_id: str, request: Request, wait: Annotated[int, Query(ge=0, le=60)] = 0
) -> JSONResponse:
    """The portal learns the ticket's state; with ``wait`` (seconds, at most 30) it is held
    until something happens. The identity comes once, on the first read after confirming."""
    client_id, actor = await run_in_threadpool(_client_of, basic_credentials(request))
    context.update(actor=actor)
    out = await wait_for_ticket(ticket_id, client_id, wait)
    return JSONResponse(out.model_dump(mode="json"), headers=NO_STORE)


# ---- family service ------------------------------------------------------------------


@router.get("/me/family", response_model=list[FamilyMemberOut])
def my_family(resident: Resident, session: DbSession) -> list[FamilyMemberOut]:
    """The family members I hold (pending and active), masked."""
    return [
        family.member_out(session, b)
        for b in family.members(session, guardian_person_id=resident.person_id)
    ]


@router.post("/me/family", response_model=FamilyMemberOut, status_code=status.HTTP_201_CREATED)
def bind_member(data: FamilyBindIn, resident: Resident, session: DbSession) -> FamilyMemberOut:
    """Bind a minor (active at once) or an elder (pending until the elder consents)."""
    return family.member_out(session, family.bind(session, guardian=resident, data=data))


@router.post("/me/family/{binding_id}/codes", response_model=CodeOut)
def member_code(
    binding_id: int, resident: Resident, session: DbSession, business: Business = 1
) -> CodeOut:
    """A family member's dynamic code shown by me (proxy; never for payment)."""
    return family.issue_proxy_code(
        session, guardian=resident, binding_id=binding_id, business=business
    )


@router.get("/me/family/{binding_id}/codes/current.svg", response_class=Response)
def member_code_svg(
    binding_id: int, resident: Resident, session: DbSession, business: Business = 1
) -> Response:
    """The same as an SVG image (segno)."""
    code = family.issue_proxy_code(
        session, guardian=resident, binding_id=binding_id, business=business
    )
    headers = {**NO_STORE, "X-Code-Expires": code.expires_at.isoformat()}
    return Response(credentials.qr_svg(code.code), media_type="image/svg+xml", headers=headers)


@router.delete("/me/family/{binding_id}", status_code=status.HTTP_204_NO_CONTENT)
def unbind_member(binding_id: int, resident: Resident, session: DbSession) -> Response:
    """End a binding: my proxy copies of the member's e-card are revoked at once."""
    family.unbind(session, guardian_person_id=resident.person_id, binding_id=binding_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me/family-requests", response_model=list[FamilyRequestOut])
def family_requests(resident: Resident, session: DbSession) -> list[FamilyRequestOut]:
    """Who holds or asks to hold my e-card (the elder's side)."""
    return [
        family.request_out(session, b)
        for b in family.requests_for(session, member_person_id=resident.person_id)
    ]


@router.post("/me/family-requests/{binding_id}/consent", response_model=FamilyRequestOut)
def consent_request(binding_id: int, resident: Resident, session: DbSession) -> FamilyRequestOut:
    """I agree that the guardian holds my e-card."""
    binding = family.consent(session, member_person_id=resident.person_id, binding_id=binding_id)
    return family.request_out(session, binding)


@router.post("/me/family-requests/{binding_id}/refuse", response_model=FamilyRequestOut)
def refuse_request(binding_id: int, resident: Resident, session: DbSession) -> FamilyRequestOut:
    """I refuse (pending) or withdraw (active): the guardian's proxy copies are revoked."""
    binding = family.refuse(session, member_person_id=resident.person_id, binding_id=binding_id)
    return family.request_out(session, binding)


@router.post("/family-bindings/search", response_model=list[FamilyRequestOut])
def search_bindings(
    data: FamilyLookupIn, actor: Manager, session: DbSession
) -> list[FamilyRequestOut]:
    """A clerk finds a family member's bindings (ID number in the body, never in the URL)."""
    found = family.bindings_of_member(session, id_number=data.member_id_number, actor=actor)
    return [family.request_out(session, b) for b in found]


@router.post("/family-bindings/{binding_id}/counter-consent", response_model=FamilyRequestOut)
def counter_consent(binding_id: int, actor: Manager, session: DbSession) -> FamilyRequestOut:
    """A clerk records the elder's consent given in person at the counter."""
    binding = family.counter_consent(session, binding_id=binding_id, actor=actor)
    return family.request_out(session, binding)


# ---- credential display --------------------------------------------------------------


@router.get("/me/credential", response_model=CredentialOut)
def my_credential(resident: Resident, session: DbSession) -> JSONResponse:
    """A credential of my e-card signed by the platform (five minutes), as text and SVG."""
    out = credentials.issue(session, person_id=resident.person_id)
    return JSONResponse(out.model_dump(mode="json"), headers=NO_STORE)


@router.post("/credentials/verify", response_model=CredentialCheck)
def verify_credential(data: CredentialIn, request: Request, session: DbSession) -> CredentialCheck:
    """Check a shown credential: no login needed; signature, expiry and current status."""
    context.update(actor=ANONYMOUS)
    _throttle(request, session, "credential", 60)
    return credentials.verify(session, text=data.credential)
