"""Dependencies every router uses: the request's transaction, the actor, permissions."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from sscard import db
from sscard.errors import NotAuthenticated, PermissionDenied
from sscard.httpkit import gate, units
from sscard.kit import context
from sscard.kit.context import Actor

SESSION_COOKIE = "sscard_session"
CSRF_COOKIE = "sscard_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _session() -> Iterator[Session]:
    with db.transaction() as session:
        units.opened(session)
        yield session


DbSession = Annotated[Session, Depends(_session, scope="function")]
"""The request's unit of work: committed as the endpoint returns, in its thread (see
:mod:`sscard.httpkit.units`), and before the response is sent; rolled back if the endpoint
raises."""


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def check_csrf(request: Request) -> None:
    """Cookie-authenticated writes must echo the CSRF cookie in a header or form field."""
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise PermissionDenied("页面已过期，请刷新后重试", code="csrf_failed")


def _actor(request: Request, session: DbSession) -> Actor:
    return authenticate(request, session)


def authenticate(request: Request, session: Session) -> Actor:
    """The actor behind the request's bearer token or page session (and the CSRF check)."""
    raw = bearer_token(request)
    if raw is not None:
        actor = gate.current().bearer(request, session, raw)
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise NotAuthenticated("请先登录（缺少 Authorization: Bearer 令牌）")
        actor = gate.current().page_session(session, cookie)
        check_csrf(request)
    context.update(actor=actor)
    return actor


CurrentActor = Annotated[Actor, Depends(_actor)]


def require(permission: str) -> Callable[..., Actor]:
    """A dependency that yields the actor if it holds ``permission``, else 403."""

    def dependency(actor: CurrentActor, session: DbSession) -> Actor:
        gate.current().authorize(session, actor, permission)
        return actor

    dependency.__name__ = f"require_{permission.replace('.', '_')}"
    return dependency


def purpose(request: Request) -> str | None:
    """The stated purpose of a read of personal data (header ``X-Purpose``)."""
    value = request.headers.get("x-purpose")
    if value:
        context.update(purpose=value[:200])
    return value


def require_apart(permission: str) -> Callable[[Request], Actor]:
    """Like :func:`require`, but checked in a unit of work of its own, committed before the
    route runs: for routes whose service runs its own transactions (a payment calling a
    bank), which would otherwise wait behind the request's (SQLite begins IMMEDIATE)."""

    def dependency(request: Request) -> Actor:
        with db.transaction() as session:
            actor = authenticate(request, session)
            gate.current().authorize(session, actor, permission)
        return actor

    dependency.__name__ = f"require_{permission.replace('.', '_')}_apart"
    return dependency
