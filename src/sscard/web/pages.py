"""What every page shares: templates, the logged-in operator, CSRF for forms."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from sscard import __version__
from sscard.db import CHINA_TZ
from sscard.errors import FieldProblem, NotAuthenticated, PermissionDenied, ValidationFailed
from sscard.httpkit import errors as api_errors
from sscard.httpkit.deps import CSRF_COOKIE, SESSION_COOKIE, DbSession
from sscard.iam import service as iam_service
from sscard.kit import context
from sscard.kit.context import Actor
from sscard.settings import get_settings

M = TypeVar("M", bound=BaseModel)

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals.update(version=__version__)

BEIJING_LABEL = "北京时间"
_TIME_FORMATS = {
    "minutes": "%Y-%m-%d %H:%M",
    "seconds": "%Y-%m-%d %H:%M:%S",
    "time": "%H:%M:%S",
    "date": "%Y-%m-%d",
}


def beijing(value: datetime | None, shape: str = "minutes", *, label: bool = True) -> str:
    """A stored (UTC) time as people in China read it: Beijing time, labelled as such
    (``label=False`` where a heading already says so; dates carry no label)."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    shown = value.astimezone(CHINA_TZ).strftime(_TIME_FORMATS[shape])
    return f"{shown} {BEIJING_LABEL}" if label and shape != "date" else shown


templates.env.filters["beijing"] = beijing


CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    )
)
"""Scripts and styles come only from the vendored static files: templates hold no inline
script, style element, style attribute or event handler (bars take their width from
``data-bar`` through sscard.js), so no nonce and no 'unsafe-inline' are needed."""
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
"""Sent with every page (operator pages, the wallet, the terminal, the consent page)."""


class LoginRequired(Exception):
    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def safe_next(value: str | None) -> str:
    """Only same-site paths are followed after login."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def csrf_token(request: Request) -> str:
    token = request.cookies.get(CSRF_COOKIE)
    if not token:
        token = getattr(request.state, "csrf_token", None) or secrets.token_urlsafe(24)
        request.state.csrf_token = token
    return token


def check_form_csrf(request: Request, sent: str | None) -> None:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise PermissionDenied("页面已过期，请刷新后重试", code="csrf_failed")


def render(
    request: Request,
    name: str,
    values: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    actor: Actor | None = None,
) -> HTMLResponse:
    settings = get_settings()
    token = csrf_token(request)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "actor": actor,
            "csrf_token": token,
            "region_name": settings.region_name,
            **(values or {}),
        },
        status_code=status_code,
    )
    if request.cookies.get(CSRF_COOKIE) != token:
        set_cookie(response, CSRF_COOKIE, token, http_only=False)
    response.headers.update(SECURITY_HEADERS)
    return response


def set_cookie(response: Any, name: str, value: str, *, http_only: bool = True) -> None:
    response.set_cookie(
        name,
        value,
        httponly=http_only,
        samesite="lax",
        secure=get_settings().is_production,
        path="/",
    )


def _page_actor(request: Request, session: DbSession) -> Actor:
    raw = request.cookies.get(SESSION_COOKIE)
    next_url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not raw:
        raise LoginRequired(next_url)
    try:
        actor = iam_service.resolve_token(session, raw=raw, kind="web")
    except NotAuthenticated as exc:
        raise LoginRequired(next_url) from exc
    context.update(actor=actor)
    return actor


PageActor = Annotated[Actor, Depends(_page_actor)]


def page_actor_in(request: Request, session: Session) -> Actor:
    """The logged-in operator resolved in ``session`` (for handlers whose work runs in units
    of work of its own and so take no request session)."""
    return _page_actor(request, session)


async def _form_fields(request: Request) -> dict[str, str]:
    """The text fields of a posted form (files are read by the handlers that take them)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(_form_fields)]


def parsed(
    model: type[M], values: Mapping[str, Any], reasons: Mapping[str, str] | None = None
) -> M:
    """The model, or ValidationFailed naming each field the way the form names it
    (``reasons`` replaces the generic reason for the fields it names)."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = api_errors.validation_problems(RequestValidationError(exc.errors()))
        raise ValidationFailed(
            [FieldProblem(p.field, (reasons or {}).get(p.field, p.reason)) for p in problems]
        ) from exc


async def login_required_handler(_request: Request, exc: Exception) -> RedirectResponse:
    next_url = cast(LoginRequired, exc).next_url
    return RedirectResponse(f"/login?next={quote(next_url)}", status_code=303)
