"""Online authorisation routes (OAuth 2.0 with PKCE) and the administration of clients.

Clients (partners, portals) authenticate with HTTP Basic ``client_id:client_secret``;
administrators use their operator token.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import unquote_plus, urlencode

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import JSONResponse, RedirectResponse

from sscard.ecard.api.deps import NO_STORE, Manager, throttle
from sscard.ecard.oauth import service as oauth
from sscard.ecard.oauth.errors import OAuthError
from sscard.ecard.oauth.schemas import ClientCreated, ClientIn, ClientOut, TokenOut
from sscard.httpkit.deps import DbSession, bearer_token
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit import context

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/ecard", tags=["e-card online"])


# ---- clients (administrators) --------------------------------------------------------


@router.post("/oauth/clients", response_model=ClientCreated, status_code=status.HTTP_201_CREATED)
def register_client(data: ClientIn, _actor: Manager, session: DbSession) -> ClientCreated:
    """Register a partner, channel app or portal; the secret is shown only here."""
    client, secret = oauth.register_client(session, data=data)
    return ClientCreated(client=client, client_secret=secret)


@router.get("/oauth/clients", response_model=list[ClientOut])
def list_clients(_actor: Manager, session: DbSession) -> list[ClientOut]:
    """Every registered client."""
    return oauth.list_clients(session)


@router.post("/oauth/clients/{client_id}/disable", response_model=ClientOut)
def disable_client(client_id: str, _actor: Manager, session: DbSession) -> ClientOut:
    """Stop a client: its tokens and tickets stop working at once."""
    return oauth.set_client_status(session, client_id=client_id, status="disabled")


@router.post("/oauth/clients/{client_id}/enable", response_model=ClientOut)
def enable_client(client_id: str, _actor: Manager, session: DbSession) -> ClientOut:
    return oauth.set_client_status(session, client_id=client_id, status="active")


@router.post("/oauth/clients/{client_id}/secret", response_model=ClientCreated)
def rotate_secret(client_id: str, _actor: Manager, session: DbSession) -> ClientCreated:
    """A new client secret (shown once); the old one stops working."""
    client, secret = oauth.rotate_secret(session, client_id=client_id)
    return ClientCreated(client=client, client_secret=secret)


# ---- online authorisation ------------------------------------------------------------


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """(client_id, client_secret) from ``Authorization: Basic``, or None when absent."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_client", "Authorization: Basic 格式不正确") from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise OAuthError("invalid_client", "Authorization: Basic 格式不正确")
    return unquote_plus(client_id), unquote_plus(secret)


def authenticated(session: DbSession, credentials: tuple[str, str] | None) -> ClientOut:
    """The active client these credentials name (now the request's actor), or invalid_client."""
    if credentials is None:
        raise OAuthError("invalid_client", "须提供应用凭据（HTTP Basic client_id:client_secret）")
    client = oauth.authenticate_client(session, client_id=credentials[0], secret=credentials[1])
    context.update(actor=oauth.client_actor(client))
    return client


def _client(request: Request, session: DbSession) -> ClientOut:
    return authenticated(session, basic_credentials(request))


Client = Annotated[ClientOut, Depends(_client)]


@router.get("/oauth/authorize", response_class=RedirectResponse, status_code=303)
def authorize(request: Request, session: DbSession) -> RedirectResponse:
    """Check an authorisation request and send the browser to the consent page (or back to
    the client with an error once its redirect URI is known to be its own)."""
    params = dict(request.query_params)
    try:
        checked = oauth.check_authorization(session, params=params)
    except OAuthError as exc:
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
    throttle(request, session, "oauth-token", 600)
    credentials = basic_credentials(request)
    if credentials is None and client_id and client_secret:
        credentials = (client_id, client_secret)
    client = authenticated(session, credentials)
    if grant_type != "authorization_code":
        raise OAuthError("unsupported_grant_type", "grant_type 须为 authorization_code")
    out = oauth.exchange(
        session, client=client, code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
    )
    return JSONResponse(out.model_dump(), headers=NO_STORE)


@router.get("/oauth/userinfo")
def userinfo(request: Request, session: DbSession) -> JSONResponse:
    """What the access token's scopes allow about the resident."""
    raw = bearer_token(request)
    if not raw or not oauth.is_access_token(raw):
        raise OAuthError("invalid_token", "须提供访问令牌（Authorization: Bearer oat_...）")
    found, client = oauth.resolve_token(session, raw=raw)
    context.update(actor=oauth.client_actor(client))
    return JSONResponse(oauth.userinfo(session, token=found), headers=NO_STORE)
