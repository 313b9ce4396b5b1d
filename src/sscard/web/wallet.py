"""The e-card wallet (电子社保卡): a phone-sized page where a resident shows the dynamic QR
code (their own or, as a guardian, a family member's), sees their insurance enrolments and
who accessed their data.

The resident opens the e-card in a channel app with the ID number and the e-card PIN
(验密). The session token the e-card service issues lives in an HttpOnly cookie of the
wallet (``sscard_wallet``, path ``/wallet``), separate from the operators' session cookie;
the page's server side presents it to the e-card service on every request, so scripts never
hold it. Forms and the code refreshes carry the CSRF double-submit token. The home renders a
first code; ``wallet.js`` fetches the next one a few seconds before it expires. A suspended
or revoked e-card shows a banner instead of a code. Every page is sent ``no-store``.
"""

from __future__ import annotations

import io
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any, cast

import segno
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sscard.ecard import credentials, online
from sscard.ecard import service as ecard_service
from sscard.ecard.codes import qr
from sscard.ecard.codes import service as codes_service
from sscard.ecard.codes.schemas import CodeOut
from sscard.ecard.errors import ECardNotFound, ResidentSessionInvalid
from sscard.ecard.family import service as family_service
from sscard.ecard.family.schemas import FamilyRequestOut
from sscard.ecard.schemas import ECardOut, ResidentSessionOut
from sscard.errors import FieldProblem, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.params import Id
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.iam import service as iam_service
from sscard.kit import access, context
from sscard.kit.context import Actor
from sscard.kit.guard import get_guard
from sscard.kit.masking import mask_card_number, mask_text
from sscard.settings import get_settings
from sscard.web import pages
from sscard.web.pages import render
from sscard.web.registry.common import PageRefused

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/wallet", include_in_schema=False)

WALLET_COOKIE = "sscard_wallet"
WALLET_PATH = "/wallet"
APP_CHANNEL_TYPES = ("hrss_app", "mini_program", "bank_app")
"""Channels a resident opens the wallet in, the platform's own HRSS app first."""
BUSINESSES = {int(b): name for b, name in qr.BUSINESS_NAMES.items()}
LOGIN_LIMIT = 30
"""Wallet logins per client address a minute (the e-card PIN locks itself after that)."""
ACCESS_LOG_SIZE = 30
MODE_COOKIE = "sscard_wallet_mode"
"""The wallet's look: ``elder`` for 长辈版 (larger, plainer, fewer choices), else standard."""
MODE_SECONDS = 365 * 24 * 3600
LATER_PARTS = ("benefits", "rights", "contributions")
"""Parts of "my insurance" that later components will supply (shown as not there yet)."""

BEIJING = timezone(timedelta(hours=8))


def beijing(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A stored (UTC) time as the resident reads it: Beijing time."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BEIJING).strftime(fmt)


# ---- the resident behind the wallet cookie ----------------------------------------------


class WalletLoginRequired(Exception):
    """No live wallet session: pages go to the login form, scripts get 401."""


async def _login_required(request: Request, _exc: Exception) -> Response:
    if request.method == "GET":
        response: Response = RedirectResponse(f"{WALLET_PATH}/login", status_code=303)
    else:
        error = ResidentSessionInvalid()
        body = {"error": error.code, "detail": error.message, "fields": []}
        response = JSONResponse(body, status_code=401)
    response.delete_cookie(WALLET_COOKIE, path=WALLET_PATH)
    return response


def install(app: FastAPI) -> None:
    """Mount the wallet's home and login, and the handler that sends a resident without a
    session to log in (the card, family and scan pages, built on this module, are mounted
    beside it by ``sscard.web.routes``)."""
    app.include_router(router)
    app.add_exception_handler(WalletLoginRequired, _login_required)


@dataclass(frozen=True, slots=True)
class Resident:
    actor: Actor
    session: ResidentSessionOut


def resident_of(request: Request, session: DbSession) -> Resident:
    raw = request.cookies.get(WALLET_COOKIE, "")
    if not ecard_service.is_resident_token(raw):
        raise WalletLoginRequired()
    try:
        with access.suppress_reads(session):  # my own session: nobody's data is shown
            actor, record = ecard_service.resolve_session(session, raw=raw)
    except ResidentSessionInvalid as exc:
        raise WalletLoginRequired() from exc
    context.update(actor=actor, channel=record.channel_code)
    return Resident(actor, record)


CurrentResident = Annotated[Resident, Depends(resident_of)]


def wallet_page(
    request: Request, name: str, values: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    elder = request.cookies.get(MODE_COOKIE) == "elder"
    values = {"beijing": beijing, "elder": elder, "here": request.url.path, **values}
    response = render(request, f"wallet/{name}.html", values, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- logging in and out ---------------------------------------------------------------------


def app_channels(session: Session) -> list[tuple[str, str]]:
    """(code, name) of the channel apps a wallet opens in, the HRSS app first."""
    found = [
        c
        for c in iam_service.list_channels(session)
        if c.status == "active" and c.type in APP_CHANNEL_TYPES
    ]
    found.sort(key=lambda c: (APP_CHANNEL_TYPES.index(c.type), c.code))
    return [(c.code, c.name) for c in found]


def wallet_login_page(
    request: Request,
    session: Session,
    values: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    channels = app_channels(session)
    chosen = values.get("channel") or ""
    if chosen not in {code for code, _ in channels}:
        chosen = channels[0][0] if channels else ""
    context_values = {"channels": channels, "errors": {}, **values, "channel": chosen}
    return wallet_page(request, "login", context_values, status_code=status_code)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, session: DbSession, channel: str = "") -> HTMLResponse:
    """The login form; ``?channel=`` chooses the channel app (the HRSS app by default)."""
    return wallet_login_page(request, session, {"channel": channel.strip()})


def throttle_logins(request: Request, session: Session) -> None:
    client = request.client.host if request.client else "unknown"
    decision = get_guard(session, namespace="wallet-rate").hit(
        f"login:{client}", limit=LOGIN_LIMIT, window_seconds=60
    )
    if not decision.allowed:
        raise SSCardError(
            f"操作过于频繁，请 {decision.retry_after_seconds} 秒后再试",
            status_code=429,
            code="too_many_requests",
        )


def _login_input(form: Mapping[str, str]) -> tuple[str, str, str]:
    id_number = form.get("id_number", "").strip()
    pin = form.get("ecard_pin", "")
    problems = []
    if not id_number:
        problems.append(FieldProblem("id_number", "请输入证件号码"))
    if not pin:
        problems.append(FieldProblem("ecard_pin", "请输入电子社保卡密码"))
    if problems:
        raise ValidationFailed(problems, "请输入证件号码和电子社保卡密码")
    return id_number, pin, form.get("channel", "").strip()


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, session: DbSession, form: pages.FormFields) -> Response:
    """Open the e-card with the e-card PIN; a refusal rolls back (wrong PINs still count)."""
    try:
        pages.check_form_csrf(request, form.get("csrf_token"))
        id_number, pin, channel = _login_input(form)
        throttle_logins(request, session)
        raw, _record = ecard_service.login(
            session, id_number=id_number, pin=pin, channel_code=channel
        )
    except SSCardError as exc:
        values = {
            "channel": form.get("channel", ""),
            "id_number": form.get("id_number", "").strip()[:32],
            "error": mask_text(exc.message),
            "errors": {p.field: p.reason for p in exc.fields},
        }
        page = wallet_login_page(request, session, values, status_code=exc.status_code)
        raise PageRefused(page) from exc
    response = RedirectResponse(WALLET_PATH, status_code=303)
    response.set_cookie(
        WALLET_COOKIE,
        raw,
        httponly=True,
        samesite="strict",
        path=WALLET_PATH,
        secure=get_settings().is_production,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession, form: pages.FormFields) -> Response:
    """Close the wallet session (the token stops working at once)."""
    try:
        pages.check_form_csrf(request, form.get("csrf_token"))
    except SSCardError as exc:
        values = {"message": exc.message}
        raise PageRefused(
            wallet_page(request, "refused", values, status_code=exc.status_code)
        ) from exc
    raw = request.cookies.get(WALLET_COOKIE, "")
    if ecard_service.is_resident_token(raw):
        ecard_service.logout(session, raw=raw)
    response = RedirectResponse(f"{WALLET_PATH}/login", status_code=303)
    response.delete_cookie(WALLET_COOKIE, path=WALLET_PATH)
    return response


@router.post("/mode")
def switch_mode(request: Request, form: pages.FormFields) -> Response:
    """Switch between 长辈版 and the standard wallet; remembered in a cookie for a year."""
    try:
        pages.check_form_csrf(request, form.get("csrf_token"))
    except SSCardError as exc:
        refused = wallet_page(
            request, "refused", {"message": exc.message}, status_code=exc.status_code
        )
        raise PageRefused(refused) from exc
    back = form.get("back", "")
    if (back != WALLET_PATH and not back.startswith(f"{WALLET_PATH}/")) or "//" in back:
        back = WALLET_PATH
    response = RedirectResponse(back, status_code=303)
    if form.get("mode") == "elder":
        response.set_cookie(
            MODE_COOKIE,
            "elder",
            max_age=MODE_SECONDS,
            httponly=True,
            samesite="lax",
            path=WALLET_PATH,
            secure=get_settings().is_production,
        )
    else:
        response.delete_cookie(MODE_COOKIE, path=WALLET_PATH)
    return response


# ---- the home: the e-card and its dynamic code ----------------------------------------------


def qr_svg(text: str) -> str:
    """The code as an inline SVG that scales with its box (segno, error level M)."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(
        buffer,
        kind="svg",
        scale=1,
        border=2,
        xmldecl=False,
        svgns=True,
        omitsize=True,
        svgclass="qr-svg",
        lineclass="qr-dark",
        dark="#111",
    )
    return buffer.getvalue().decode()


def _code_json(code: CodeOut) -> dict[str, Any]:
    remaining = code.expires_at.timestamp() - time.time()
    return {
        "code": code.code,
        "svg": qr_svg(code.code),
        "business": code.business,
        "business_name": BUSINESSES.get(code.business, ""),
        "expires_at": code.expires_at.isoformat(),
        "expires_in": max(0, round(remaining)),
        "ttl_seconds": code.ttl_seconds,
    }


def _business(raw: str | int | None) -> int:
    try:
        value = int(raw or 1)
    except (TypeError, ValueError):
        value = 0
    if value not in BUSINESSES:
        reason = "业务类型应为 查询、支付、其他 或 异地就医"
        raise ValidationFailed([FieldProblem("business", reason)], reason)
    return value


def _ecard(session: Session, resident: Resident) -> ECardOut | None:
    """The resident's e-card (None once it is revoked)."""
    try:
        ecard = ecard_service.get_ecard_of_person(session, person_id=resident.actor.id)
    except ECardNotFound:
        return None
    return ecard_service.ecard_out(session, ecard)


def _first_code(session: Session, resident: Resident) -> dict[str, Any] | None:
    try:
        copy = ecard_service.own_copy(session, resident=resident.session)
        return _code_json(codes_service.issue_code(session, copy=copy, business=1))
    except SSCardError:
        return None


@router.get("", response_class=HTMLResponse)
def home(request: Request, resident: CurrentResident, session: DbSession) -> HTMLResponse:
    """The e-card with a fresh code (or a banner when it cannot be used)."""
    ecard = _ecard(session, resident)
    status = ecard.status if ecard is not None else "revoked"
    code = _first_code(session, resident) if status == "active" else None
    channel = iam_service.get_channel(session, code=resident.session.channel_code)
    values = {
        "ecard": ecard,
        "status": status,
        "card_number": mask_card_number(ecard.card_number) if ecard else "",
        "code": code,
        "businesses": BUSINESSES,
        "channel_name": channel.name,
        "holder": resident.actor.name,
        "helpers": _helpers(session, resident),
    }
    return wallet_page(request, "home", values)


def _helpers(session: Session, resident: Resident) -> list[FamilyRequestOut]:
    """The family members who help me (hold my e-card) or ask to."""
    found = family_service.requests_for(session, member_person_id=resident.actor.id)
    return [family_service.request_out(session, b) for b in found]


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return cast(dict[str, Any], body) if isinstance(body, dict) else {}


async def _business_asked(request: Request) -> int:
    """The business type the page's script asks a code for (``{"business": n}``, CSRF header)."""
    pages.check_form_csrf(request, request.headers.get("x-csrf-token"))
    return _business((await _json_body(request)).get("business"))


BusinessAsked = Annotated[int, Depends(_business_asked)]


@router.post("/codes")
def new_code(
    resident: CurrentResident, session: DbSession, business: BusinessAsked
) -> JSONResponse:
    """A fresh code for the page's script (JSON with the SVG)."""
    copy = ecard_service.own_copy(session, resident=resident.session)
    code = codes_service.issue_code(session, copy=copy, business=business)
    return JSONResponse(_code_json(code), headers={"Cache-Control": "no-store"})


# ---- credential display (亮证) ----------------------------------------------------------------


@router.post("/credential", response_class=HTMLResponse)
def show_credential(
    request: Request, resident: CurrentResident, session: DbSession, form: pages.FormFields
) -> HTMLResponse:
    """亮证: a signed credential of my e-card as a QR, valid five minutes."""
    try:
        pages.check_form_csrf(request, form.get("csrf_token"))
        shown = credentials.issue(session, person_id=resident.actor.id)
    except SSCardError as exc:
        refused = wallet_page(
            request, "refused", {"message": exc.message}, status_code=exc.status_code
        )
        raise PageRefused(refused) from exc
    values: dict[str, Any] = {
        "credential": shown,
        "svg": qr_svg(shown.credential),
        "expires": beijing(shown.expires_at, "%H:%M:%S"),
        "expires_in": max(0, round(shown.expires_at.timestamp() - time.time())),
    }
    return wallet_page(request, "credential", values)


# ---- family members ------------------------------------------------------------------------


@router.get("/family")
def family_members(resident: CurrentResident, session: DbSession) -> JSONResponse:
    """The family members whose codes I may show (the switcher appears when there are any)."""
    found = family_service.members(session, guardian_person_id=resident.actor.id)
    members = [family_service.member_out(session, b) for b in found if b.status == "active"]
    body = {
        "members": [
            {
                "id": m.id,
                "label": f"{m.member_name}（{m.relation_name}）",
                "ecard_status": m.ecard_status,
            }
            for m in members
        ]
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/family/{binding_id}/codes")
def family_code(
    binding_id: Id, resident: CurrentResident, session: DbSession, business: BusinessAsked
) -> JSONResponse:
    """A family member's code shown by me (marked as proxy; never for payment)."""
    code = family_service.issue_proxy_code(
        session, guardian=resident.session, binding_id=binding_id, business=business
    )
    return JSONResponse(_code_json(code), headers={"Cache-Control": "no-store"})


# ---- my insurance and who accessed my data ---------------------------------------------------


@router.get("/insurance", response_class=HTMLResponse)
def insurance(request: Request, resident: CurrentResident, session: DbSession) -> HTMLResponse:
    """My insurance enrolments from the registry; later parts say there is no data yet."""
    values = {
        "insurance": online.my_insurance(session, person_id=resident.actor.id),
        "later_parts": [online.not_yet(topic) for topic in LATER_PARTS],
    }
    return wallet_page(request, "insurance", values)


@router.get("/access-log", response_class=HTMLResponse)
def access_log(
    request: Request, resident: CurrentResident, session: DbSession, page: str = "1"
) -> HTMLResponse:
    """Who accessed my data, newest first (my own acts left out)."""
    number = int(page) if page.isdigit() and 0 < int(page) <= 10_000 else 1
    found = online.access_log(
        session, person_id=resident.actor.id, page=number, page_size=ACCESS_LOG_SIZE
    )
    last = max(1, -(-found.total // found.page_size))
    return wallet_page(request, "access_log", {"log": found, "last_page": last})
