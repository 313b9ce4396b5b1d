"""Pages of the e-card's online services: the consent page of online authorisation, a small
demo government portal that logs in by scan login, and the credential verifier.

- ``/wallet/consent`` (phone-sized): the authorisation request a client sent through
  ``GET /api/v1/ecard/oauth/authorize``, checked again, with the client's name and what it
  will learn. A resident logged in to the wallet (its ``sscard_wallet`` cookie, path
  ``/wallet``, reaches this page because it lives under ``/wallet``) consents with one tap;
  anyone else types the ID number and the e-card PIN (wrong PINs count towards the e-card's
  lock). Either way the browser goes back to the client with a code or ``access_denied``.
  The page may not be framed.
- ``/portal-demo``: a portal page (演示政务网站) that asks for a login ticket as the
  platform's own demo client, shows the QR (segno SVG), long-polls its own status endpoint
  and shows the masked identity once the resident confirms in the wallet. The ticket id is
  kept in an HttpOnly cookie, so only that browser learns the result. Not served in
  production.
- ``/ecard/credential``: paste a credential (``ECR...``) and see whether it is valid now,
  with the holder masked. No login.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sscard import db
from sscard.ecard import credentials
from sscard.ecard import service as ecard_service
from sscard.ecard.api import online as online_api
from sscard.ecard.api import scanlogin as scanlogin_api
from sscard.ecard.errors import ResidentSessionInvalid
from sscard.ecard.oauth import rules as oauth_rules
from sscard.ecard.oauth import service as oauth
from sscard.ecard.oauth.errors import OAuthError
from sscard.ecard.oauth.schemas import AuthorizationRequest, ClientIn, ClientOut
from sscard.ecard.scanlogin import service as scanlogin
from sscard.ecard.schemas import CredentialCheck
from sscard.errors import NotFound, SSCardError
from sscard.httpkit.deps import DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.iam import service as iam_service
from sscard.kit import access, context
from sscard.kit.context import Actor, ActorKind
from sscard.kit.guard import DatabaseGuard, get_guard
from sscard.kit.masking import mask_text
from sscard.registry.persons import service as registry_service
from sscard.settings import get_settings
from sscard.web import pages
from sscard.web.pages import render
from sscard.web.registry.common import PageRefused

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)

WALLET_COOKIE = "sscard_wallet"
"""The wallet's session cookie (sscard.web.wallet), sent to paths under /wallet."""
PORTAL_PATH = "/portal-demo"
PORTAL_COOKIE = "sscard_portal_ticket"
DEMO_CLIENT_ID = "portal-demo"
PIN_LIMIT = 30
"""Consents with an e-card PIN per client address a minute."""
PAGE_HEADERS = {"Cache-Control": "no-store"}
"""On top of the security headers every page gets (pages.SECURITY_HEADERS: not framed)."""
REQUEST_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


def _page(
    request: Request, name: str, values: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    response = render(request, name, values, status_code=status_code)
    response.headers.update(PAGE_HEADERS)
    return response


def _throttle(request: Request, session: Session, what: str) -> None:
    """At most PIN_LIMIT tries a minute per address; a refused try still counts (with the
    database guard a rolled-back hit is un-counted, so it is counted again afterwards)."""
    key = f"{what}:{request.client.host if request.client else 'unknown'}"
    guard = get_guard(session, namespace="ecard-rate")
    decision = guard.hit(key, limit=PIN_LIMIT, window_seconds=60)
    if isinstance(guard, DatabaseGuard):

        def count_again(fresh: Session) -> None:
            DatabaseGuard(fresh, namespace="ecard-rate").hit(
                key, limit=PIN_LIMIT, window_seconds=60
            )

        db.after_rollback(session, count_again)
    if not decision.allowed:
        raise SSCardError(
            f"操作过于频繁，请 {decision.retry_after_seconds} 秒后再试",
            status_code=429,
            code="too_many_requests",
        )


# ---- the consent page ----------------------------------------------------------------


def _wallet_resident(request: Request, session: Session) -> Actor | None:
    """The resident logged in to the wallet in this browser, if any."""
    raw = request.cookies.get(WALLET_COOKIE, "")
    if not ecard_service.is_resident_token(raw):
        return None
    try:
        actor, _record = ecard_service.resolve_session(session, raw=raw)
    except ResidentSessionInvalid:
        return None
    return actor


def _resident_actor(session: Session, person_id: str) -> Actor:
    with access.suppress_reads(session):
        _, name_masked = registry_service.person_display(session, person_id=person_id)
    return Actor(kind=ActorKind.resident, id=person_id, name=name_masked)


def _refusal(request: Request, error: SSCardError) -> HTMLResponse:
    values = {"error": mask_text(error.message), "error_code": error.code}
    return _page(request, "ecard/consent.html", values, status_code=error.status_code)


def _checked(
    request: Request, session: Session, params: Mapping[str, str]
) -> AuthorizationRequest | Response:
    """The request checked, or the response that ends it (back to the client, or a page)."""
    try:
        return oauth.check_authorization(session, params=params)
    except OAuthError as exc:
        if exc.redirectable:
            target = oauth.error_redirect(params["redirect_uri"], exc, params.get("state"))
            return RedirectResponse(target, status_code=303)
        return _refusal(request, exc)


def _consent_page(
    request: Request,
    checked: AuthorizationRequest,
    resident: Actor | None,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    values = {
        "request_params": checked.params(),
        "client_name": checked.client_name,
        "institution_name": checked.institution_name,
        "scopes": oauth_rules.scope_list(list(checked.scopes)),
        "resident": resident,
        "error": error,
    }
    return _page(request, "ecard/consent.html", values, status_code=status_code)


@router.get("/wallet/consent", response_class=HTMLResponse)
def consent_page(request: Request, session: DbSession) -> Response:
    """What the client asks for, and the buttons to agree or refuse."""
    checked = _checked(request, session, dict(request.query_params))
    if isinstance(checked, Response):
        return checked
    return _consent_page(request, checked, _wallet_resident(request, session))


def _consenting_person(
    request: Request, session: Session, form: Mapping[str, str], resident: Actor | None
) -> str:
    id_number, pin = form.get("id_number", "").strip(), form.get("ecard_pin", "")
    if resident is not None and not id_number:
        return resident.id
    if not id_number or not pin:
        raise SSCardError("请输入证件号码和电子社保卡密码", status_code=422, code="invalid_request")
    _throttle(request, session, "consent")
    return oauth.resident_by_pin(session, id_number=id_number, pin=pin)


@router.post("/wallet/consent", response_class=HTMLResponse)
def consent_submit(request: Request, session: DbSession, form: pages.FormFields) -> Response:
    """Agree (a code goes back to the client) or refuse (``access_denied`` goes back)."""
    params = {k: form[k] for k in REQUEST_FIELDS if k in form}
    checked = _checked(request, session, params)
    if isinstance(checked, Response):
        return checked
    resident = _wallet_resident(request, session)
    if resident is not None:
        context.update(actor=resident)
    try:
        pages.check_form_csrf(request, form.get("csrf_token"))
        if form.get("decision") != "allow":
            who = resident.id if resident else None
            target = oauth.deny(session, request=checked, person_id=who)
            return RedirectResponse(target, status_code=303)
        person_id = _consenting_person(request, session, form, resident)
        context.update(actor=resident or _resident_actor(session, person_id))
        target = oauth.grant(session, request=checked, person_id=person_id)
    except SSCardError as exc:
        page = _consent_page(
            request, checked, resident, error=mask_text(exc.message), status_code=exc.status_code
        )
        raise PageRefused(page) from exc
    response = RedirectResponse(target, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- the demo portal -----------------------------------------------------------------


def _demo_client(session: Session) -> ClientOut:
    institution = iam_service.ensure_platform_institution(session)
    data = ClientIn(
        name="政务服务网（演示）",
        institution_code=institution.code,
        scopes=["profile"],
        grant_types=["scan_login"],
    )
    return oauth.ensure_client(session, client_id=DEMO_CLIENT_ID, data=data)


@router.get(PORTAL_PATH, response_class=HTMLResponse)
def portal_demo(request: Request, session: DbSession) -> Response:
    """The demo portal's login page: a fresh scan-login QR."""
    if get_settings().is_production:
        raise NotFound("演示页面在生产环境不可用")
    client = _demo_client(session)
    ticket = scanlogin.create_ticket(session, client=client, scope="profile")
    values = {
        "ticket": ticket,
        "qr_svg": credentials.qr_svg(ticket.qr_text, scalable=True),
        "client_name": client.name,
    }
    response = _page(request, "portal/demo.html", values)
    response.set_cookie(
        PORTAL_COOKIE,
        ticket.ticket_id,
        httponly=True,
        samesite="lax",
        path=PORTAL_PATH,
        secure=get_settings().is_production,
    )
    return response


def _demo_actor() -> Actor:
    with db.transaction() as session:
        return oauth.client_actor(oauth.get_client(session, client_id=DEMO_CLIENT_ID))


@router.get(f"{PORTAL_PATH}/status")
async def portal_status(
    request: Request, wait: Annotated[int, Query(ge=0, le=60)] = 20
) -> JSONResponse:
    """The demo portal's own long poll: the masked identity once the resident confirms."""
    if get_settings().is_production:
        raise NotFound("演示页面在生产环境不可用")
    ticket_id = request.cookies.get(PORTAL_COOKIE, "")
    if not ticket_id:
        return JSONResponse({"status": "missing"}, headers=PAGE_HEADERS)
    context.update(actor=await run_in_threadpool(_demo_actor))
    out = await scanlogin_api.wait_for_ticket(ticket_id, DEMO_CLIENT_ID, wait)
    identity = out.identity or {}
    body = {
        "status": out.status,
        "expires_at": out.expires_at.isoformat(),
        "name_masked": identity.get("name_masked"),
    }
    return JSONResponse(body, headers=PAGE_HEADERS)


# ---- the credential verifier ---------------------------------------------------------


def _verifier_page(
    request: Request,
    *,
    result: CredentialCheck | None = None,
    text: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    values = {"result": result, "text": text, "error": error}
    return _page(request, "ecard/credential_verify.html", values, status_code=status_code)


@router.get("/ecard/credential", response_class=HTMLResponse)
def credential_page(request: Request) -> HTMLResponse:
    """Paste a shown credential to check it."""
    return _verifier_page(request)


@router.post("/ecard/credential", response_class=HTMLResponse)
def credential_check(request: Request, session: DbSession, form: pages.FormFields) -> HTMLResponse:
    """The verdict: valid or not, why, and the holder masked."""
    context.update(actor=online_api.ANONYMOUS)
    text = form.get("credential", "").strip()[:1000]
    try:
        pages.check_form_csrf(request, form.get("csrf_token"))
        _throttle(request, session, "credential-page")
    except SSCardError as exc:
        page = _verifier_page(request, text=text, error=exc.message, status_code=exc.status_code)
        raise PageRefused(page) from exc
    if not text:
        return _verifier_page(request, error="请粘贴亮证凭证（以 ECR 开头）", status_code=422)
    return _verifier_page(request, result=credentials.verify(session, text=text), text=text)


def install(app: FastAPI) -> None:
    """Mount the consent page, the demo portal and the credential verifier."""
    app.include_router(router)
