"""Online authorisation (线上授权) for channels and partners: OAuth 2.0 authorisation code
with PKCE (RFC 6749, RFC 7636).

Design overview
===============
- A client (a channel app, a partner, a government portal) is registered by an administrator:
  name, owner institution (and channel), the exact redirect URIs, the scopes it may ask for,
  its grant types (``authorization_code``, ``scan_login``). Its secret is shown once and kept
  as an SM3 hash (the secrets are 256-bit random, so a fast hash is enough).
- ``authorize``: the request is checked (known active client, redirect URI equal to a
  registered one, ``response_type=code``, scopes within the client's, a PKCE S256
  challenge); the resident consents on the consent page (wallet session, or ID number and
  e-card PIN); the client gets a code: 60 seconds, single use, bound to the client, the
  redirect URI, the scopes and the challenge.
- ``token``: the client authenticates (HTTP Basic or form fields) and sends the code, the
  redirect URI and the PKCE verifier; it gets an opaque access token (10 minutes, stored as an
  SM3 hash). A code presented a second time is refused and the tokens issued for it are
  revoked (RFC 6749 section 4.1.2).
- ``userinfo``: what the granted scopes allow, with ``sub``, a subject identifier that differs
  per client so that partners cannot join their records on it.
- Errors carry the RFC 6749 names (``invalid_request``, ``invalid_client``, ``invalid_grant``,
  ``unauthorized_client``, ``invalid_scope``, ``access_denied`` ...) as the ``error`` of the
  platform's one error body. Every grant, refusal, token and userinfo read is audited with the
  resident as the subject.

Clients leave this module as :class:`ClientOut`; the pure rules are in ``rules.py``.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from sscard import db
from sscard.crypto import primitives
from sscard.crypto import service as crypto_service
from sscard.db import utcnow
from sscard.ecard import online
from sscard.ecard import records as ecard_records
from sscard.ecard import service as ecard_service
from sscard.ecard.errors import ECardNotFound
from sscard.ecard.models import ECard
from sscard.ecard.oauth import repository
from sscard.ecard.oauth.errors import ClientNotFound, OAuthError
from sscard.ecard.oauth.models import OAuthClient, OAuthCode, OAuthToken
from sscard.ecard.oauth.rules import (
    allowed_scopes,
    challenge_problem,
    parse_scope,
    redirect_uri_problem,
    verifier_matches,
    with_params,
)
from sscard.ecard.oauth.schemas import AuthorizationRequest, ClientIn, ClientOut, TokenOut
from sscard.errors import FieldProblem, NotFound, ValidationFailed
from sscard.iam import service as iam_service
from sscard.issuance.cards import service as issuance_service
from sscard.kit import access
from sscard.kit.access import AccessRecord
from sscard.kit.context import Actor, ActorKind
from sscard.registry.persons import service as registry_service
from sscard.settings import get_settings

GRANT_TYPES = ("authorization_code", "scan_login")
CODE_SECONDS = 60
TOKEN_SECONDS = 600
CLIENT_PREFIX = "oc_"
SECRET_PREFIX = "ocs_"  # noqa: S105 - a visible prefix, not a secret
CODE_PREFIX = "oac_"
TOKEN_PREFIX = "oat_"  # noqa: S105 - a visible prefix, not a secret
SUBJECT_KEY = "ecard-oauth-subject"
MAX_STATE = 500
CONSENT_PATH = "/wallet/consent"
"""The consent page (sscard.web.ecard_consent): under the wallet's path, so that a resident
logged in to the wallet is recognised by its session cookie."""


def _hash(raw: str) -> str:
    return primitives.sm3(raw.encode()).hex()


# ---- clients -------------------------------------------------------------------------


def _out(client: OAuthClient) -> ClientOut:
    return ClientOut(
        client_id=client.client_id,
        name=client.name,
        institution_code=client.institution_code,
        channel_code=client.channel_code,
        redirect_uris=list(client.redirect_uris),
        scopes=list(client.scopes),
        grant_types=list(client.grant_types),
        status=client.status,
        created_at=client.created_at,
    )


def _check_client(session: Session, data: ClientIn) -> list[str]:
    iam_service.get_institution(session, code=data.institution_code)
    if data.channel_code:
        iam_service.get_channel(session, code=data.channel_code)
    production = get_settings().is_production
    uris = list(dict.fromkeys(data.redirect_uris))
    problems = [
        FieldProblem(f"redirect_uris.{i}", p)
        for i, uri in enumerate(uris)
        if (p := redirect_uri_problem(uri, production=production))
    ]
    if "authorization_code" in data.grant_types and not uris:
        problems.append(FieldProblem("redirect_uris", "授权码方式须登记至少一个回调地址"))
    if problems:
        raise ValidationFailed(problems)
    return uris


def register_client(
    session: Session, *, data: ClientIn, client_id: str | None = None
) -> tuple[ClientOut, str]:
    """Register a client; (the client, its secret shown once). ``client_id`` is generated
    unless the platform names one of its own clients."""
    uris = _check_client(session, data)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    client = OAuthClient(
        client_id=client_id or CLIENT_PREFIX + secrets.token_hex(8),
        secret_hash=_hash(secret),
        name=data.name,
        institution_code=data.institution_code,
        channel_code=data.channel_code,
        redirect_uris=uris,
        scopes=list(dict.fromkeys(data.scopes)),
        grant_types=list(dict.fromkeys(data.grant_types)),
        status="active",
        created_at=now,
        updated_at=now,
    )
    repository.add_client(session, client)
    access.record(
        session,
        AccessRecord(action="ecard.oauth.client.create", detail={"client": client.client_id}),
    )
    return _out(client), secret


def ensure_client(session: Session, *, client_id: str, data: ClientIn) -> ClientOut:
    """The client ``client_id``, registered with ``data`` and an unknown secret if missing
    (for the platform's own pages, which call the services directly)."""
    found = repository.client(session, client_id)
    if found is not None:
        return _out(found)
    client, _secret = register_client(session, data=data, client_id=client_id)
    return client


def _client_row(session: Session, client_id: str) -> OAuthClient:
    found = repository.client(session, client_id)
    if found is None:
        raise ClientNotFound()
    return found


def get_client(session: Session, *, client_id: str) -> ClientOut:
    """The client ``client_id``, or ClientNotFound."""
    return _out(_client_row(session, client_id))


def list_clients(session: Session) -> list[ClientOut]:
    """Every registered client."""
    return [_out(c) for c in repository.clients(session)]


def set_client_status(session: Session, *, client_id: str, status: str) -> ClientOut:
    """Disable a client (its tokens stop working at once) or enable it again."""
    client = _client_row(session, client_id)
    client.status, client.updated_at = status, utcnow()
    access.record(
        session, AccessRecord(action=f"ecard.oauth.client.{status}", detail={"client": client_id})
    )
    return _out(client)


def rotate_secret(session: Session, *, client_id: str) -> tuple[ClientOut, str]:
    """A new secret for a client (shown once); the old one stops working."""
    client = _client_row(session, client_id)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    client.secret_hash, client.updated_at = _hash(secret), utcnow()
    access.record(
        session, AccessRecord(action="ecard.oauth.client.secret", detail={"client": client_id})
    )
    return _out(client), secret


def authenticate_client(session: Session, *, client_id: str, secret: str) -> ClientOut:
    """The active client whose secret this is, or invalid_client."""
    found = repository.client(session, client_id)
    if (
        found is None
        or found.status != "active"
        or not hmac.compare_digest(found.secret_hash, _hash(secret))
    ):
        raise OAuthError("invalid_client", "应用身份验证失败（client_id 或 client_secret 不正确）")
    return _out(found)


def client_actor(client: ClientOut) -> Actor:
    """The client as the actor of what it does (for the audit log)."""
    return Actor(
        kind=ActorKind.app,
        id=client.client_id,
        name=client.name,
        institution_code=client.institution_code,
    )


def institution_name(session: Session, client: ClientOut) -> str | None:
    """The name of the client's owner institution (None once it is gone)."""
    try:
        return iam_service.get_institution(session, code=client.institution_code).name
    except NotFound:
        return None


# ---- the authorisation request and the resident's consent ----------------------------


def _usable_client(session: Session, params: Mapping[str, str]) -> ClientOut:
    found = repository.client(session, params.get("client_id", ""))
    if found is None or found.status != "active":
        raise OAuthError("invalid_client", "应用不存在或已停用", status_code=400)
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in found.redirect_uris:
        raise OAuthError("invalid_request", "回调地址（redirect_uri）与该应用登记的不一致")
    return _out(found)


def check_authorization(session: Session, *, params: Mapping[str, str]) -> AuthorizationRequest:
    """The request checked; errors before the redirect URI is trusted are not redirectable."""
    client = _usable_client(session, params)
    state = params.get("state")
    if state is not None and len(state) > MAX_STATE:
        raise OAuthError("invalid_request", "state 过长", redirectable=True)
    if params.get("response_type") != "code":
        raise OAuthError("unsupported_response_type", "response_type 须为 code", redirectable=True)
    if "authorization_code" not in client.grant_types:
        raise OAuthError("unauthorized_client", "该应用未开通授权码方式", redirectable=True)
    scopes = allowed_scopes(parse_scope(params.get("scope")), list(client.scopes))
    problem = challenge_problem(params.get("code_challenge"), params.get("code_challenge_method"))
    if problem:
        raise OAuthError("invalid_request", problem, redirectable=True)
    return AuthorizationRequest(
        client_id=client.client_id,
        client_name=client.name,
        institution_name=institution_name(session, client),
        redirect_uri=params["redirect_uri"],
        scopes=tuple(scopes),
        state=state,
        code_challenge=params["code_challenge"],
    )


def error_redirect(redirect_uri: str, error: OAuthError, state: str | None) -> str:
    """Where the browser goes when a redirectable error ends the request."""
    return with_params(
        redirect_uri, {"error": error.code, "error_description": error.message, "state": state}
    )


def resident_by_pin(session: Session, *, id_number: str, pin: str) -> str:
    """The person whose e-card PIN this is (验密), for a consent without a wallet session;
    wrong PINs count towards the e-card's lock."""
    person_id, _ecard = ecard_service.person_by_pin(session, id_number=id_number, pin=pin)
    return person_id


def _active_ecard(session: Session, person_id: str) -> ECard:
    ecard = ecard_service.get_ecard_of_person(session, person_id=person_id)
    if ecard.status != "active":
        raise OAuthError("access_denied", "电子社保卡已暂停使用（社会保障卡已挂失），不能授权")
    return ecard


def grant(session: Session, *, request: AuthorizationRequest, person_id: str) -> str:
    """The resident consents: a 60-second single-use code; the redirect URL with it."""
    ecard = _active_ecard(session, person_id)
    raw = CODE_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    code = OAuthCode(
        code_hash=_hash(raw),
        client_id=request.client_id,
        person_id=person_id,
        ecard_id=ecard.id,
        redirect_uri=request.redirect_uri,
        scopes=list(request.scopes),
        code_challenge=request.code_challenge,
        created_at=now,
        expires_at=now + timedelta(seconds=CODE_SECONDS),
    )
    repository.add_code(session, code)
    ecard_records.record_usage(
        session,
        ecard_id=ecard.id,
        copy_id=None,
        kind="authorise",
        business=None,
        scenario_code=None,
        actor_id=person_id,
        outcome="granted",
    )
    detail = {"client": request.client_id, "scopes": " ".join(request.scopes)}
    ecard_records.record_about(session, "ecard.oauth.grant", person_id, detail)
    return with_params(request.redirect_uri, {"code": raw, "state": request.state})


def deny(session: Session, *, request: AuthorizationRequest, person_id: str | None) -> str:
    """The resident refuses: the redirect URL with access_denied."""
    if person_id is not None:
        ecard_records.record_about(
            session, "ecard.oauth.deny", person_id, {"client": request.client_id}, outcome="denied"
        )
    refused = OAuthError("access_denied", "用户拒绝了授权")
    return error_redirect(request.redirect_uri, refused, request.state)


# ---- tokens and userinfo -------------------------------------------------------------


def _revoke_tokens_of(code_id: int) -> Callable[[Session], None]:
    def revoke(fresh: Session) -> None:
        repository.revoke_tokens_of_code(fresh, code_id, utcnow())

    return revoke


def _redeemable(session: Session, client: ClientOut, raw_code: str) -> OAuthCode:
    code = repository.code_by_hash(session, _hash(raw_code))
    if code is None or code.client_id != client.client_id:
        raise OAuthError("invalid_grant", "授权码无效")
    if code.used_at is not None:
        db.after_rollback(session, _revoke_tokens_of(code.id))
        ecard_records.record_about(
            session,
            "ecard.oauth.token",
            code.person_id,
            {"client": client.client_id, "reason": "code_reused"},
            outcome="denied",
            keep=True,
        )
        raise OAuthError("invalid_grant", "授权码已使用（据此签发的令牌已全部作废）")
    if code.expires_at <= utcnow():
        raise OAuthError("invalid_grant", "授权码已过期")
    return code


def _claimed(
    session: Session, client: ClientOut, code: str, redirect_uri: str, verifier: str
) -> OAuthCode:
    found = _redeemable(session, client, code)
    if redirect_uri != found.redirect_uri:
        raise OAuthError("invalid_grant", "回调地址与申请授权码时的不一致")
    if not verifier_matches(verifier, found.code_challenge):
        raise OAuthError("invalid_grant", "PKCE 校验失败（code_verifier 不匹配）")
    if not repository.claim_code(session, found.id, utcnow()):
        raise OAuthError("invalid_grant", "授权码已使用")
    ecard = ecard_service.get_ecard(session, ecard_id=found.ecard_id)
    if ecard is None or ecard.status != "active":
        raise OAuthError("invalid_grant", "电子社保卡已暂停使用或已注销")
    return found


def exchange(
    session: Session, *, client: ClientOut, code: str, redirect_uri: str, code_verifier: str
) -> TokenOut:
    """A code for an access token: client, redirect URI and PKCE verifier must match."""
    if not code or not redirect_uri or not code_verifier:
        raise OAuthError("invalid_request", "须提供 code、redirect_uri 和 code_verifier")
    if "authorization_code" not in client.grant_types:
        raise OAuthError("unauthorized_client", "该应用未开通授权码方式")
    found = _claimed(session, client, code, redirect_uri, code_verifier)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = OAuthToken(
        token_hash=_hash(raw),
        client_id=client.client_id,
        person_id=found.person_id,
        ecard_id=found.ecard_id,
        code_id=found.id,
        scopes=list(found.scopes),
        created_at=now,
        expires_at=now + timedelta(seconds=TOKEN_SECONDS),
    )
    repository.add_token(session, token)
    detail = {"client": client.client_id, "scopes": " ".join(found.scopes)}
    ecard_records.record_about(session, "ecard.oauth.token", found.person_id, detail)
    return TokenOut(
        access_token=raw,
        token_type="Bearer",  # noqa: S106 - the token type, not a secret
        expires_in=TOKEN_SECONDS,
        scope=" ".join(found.scopes),
    )


def is_access_token(raw: str) -> bool:
    """Whether a bearer token is an access token of this module (by its prefix)."""
    return raw.startswith(TOKEN_PREFIX)


def resolve_token(session: Session, *, raw: str) -> tuple[OAuthToken, ClientOut]:
    """A live access token and its active client, or invalid_token."""
    token = repository.token_by_hash(session, _hash(raw))
    if token is None or token.revoked_at is not None or token.expires_at <= utcnow():
        raise OAuthError("invalid_token", "访问令牌无效或已过期")
    client = repository.client(session, token.client_id)
    if client is None or client.status != "active":
        raise OAuthError("invalid_token", "访问令牌无效或已过期")
    return token, _out(client)


def userinfo(session: Session, *, token: OAuthToken) -> dict[str, Any]:
    """What the token's scopes allow about the resident (audited with the fields)."""
    values = disclose(
        session,
        person_id=token.person_id,
        ecard_id=token.ecard_id,
        client_id=token.client_id,
        scopes=list(token.scopes),
    )
    ecard_records.record_about(
        session,
        "ecard.oauth.userinfo",
        token.person_id,
        {"client": token.client_id},
        fields=tuple(k for k in values if k != "sub"),
    )
    return values


def pairwise_subject(session: Session, *, client_id: str, person_id: str) -> str:
    """The resident's identifier for one client: the same every time, different per client."""
    crypto_service.ensure_key(
        session, name=SUBJECT_KEY, kind="secret", description="电子社保卡授权用户标识（按应用区分）"
    )
    key = crypto_service.derive_key(session, name=SUBJECT_KEY, context=b"oauth-sub", version=1)
    return primitives.sm3_hmac(key.key, f"{client_id}|{person_id}".encode())[:16].hex()


def disclose(
    session: Session, *, person_id: str, ecard_id: str | None, client_id: str, scopes: list[str]
) -> dict[str, Any]:
    """The resident's attributes a set of scopes allows (decrypting only for ``identity``)."""
    values: dict[str, Any] = {
        "sub": pairwise_subject(session, client_id=client_id, person_id=person_id)
    }
    with access.suppress_reads(session):
        person = registry_service.get_person_by_id(session, person_id=person_id)
        if "profile" in scopes:
            values["name_masked"] = person.name_masked
        if "identity" in scopes:
            clear = registry_service.reveal_fields(session, person)
            values["name"], values["id_number"] = clear.name, clear.id_number
    if "card" in scopes:
        ecard = ecard_service.get_ecard(session, ecard_id=ecard_id) if ecard_id else None
        if ecard is None:
            raise ECardNotFound()
        card = issuance_service.card_by_id(session, card_id=ecard.card_id)
        values["card_number"], values["card_status"] = card.card_number, ecard.status
    if "insurance" in scopes:
        items = online.insurance_items(session, person_id=person_id)
        values["insurance"] = [i.model_dump(mode="json") for i in items]
    return values
