"""Online authorisation against a real database: clients, consent, codes, tokens, userinfo."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.integration.ecard.test_online_support import (
    ECARD_PIN,
    Holder,
    app_channel,
    holder,
    signer,
)

from sscard.db import utcnow
from sscard.ecard.errors import EcardPinIncorrect
from sscard.ecard.oauth import rules as oauth_rules
from sscard.ecard.oauth import service as oauth
from sscard.ecard.oauth.errors import OAuthError
from sscard.ecard.oauth.models import OAuthClient, OAuthCode, OAuthToken
from sscard.ecard.oauth.schemas import ClientIn, ClientOut
from sscard.errors import ValidationFailed
from sscard.iam import service as iam_service
from sscard.issuance.cards import service as issuance
from sscard.kit.context import Actor

__all__ = ["app_channel", "holder", "signer"]

REDIRECT = "https://bank.example.cn/oauth/callback"


def _client(
    session: Session, *scopes: str, grant_types: tuple[str, ...] = ("authorization_code",)
) -> tuple[ClientOut, str]:
    inst = iam_service.ensure_platform_institution(session).code
    data = ClientIn(
        name="某银行APP",
        institution_code=inst,
        redirect_uris=[REDIRECT],
        scopes=list(scopes or ("profile",)),
        grant_types=list(grant_types),
    )  # type: ignore[arg-type]
    return oauth.register_client(session, data=data)


def _params(client: ClientOut, scope: str, verifier: str, **changes: str) -> dict[str, str]:
    values = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "xyz",
        "code_challenge": oauth_rules.s256(verifier),
        "code_challenge_method": "S256",
    }
    values.update(changes)
    return values


def _code_of(url: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(url).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def _verifier() -> str:
    return secrets.token_urlsafe(48)


def test_a_client_is_registered_with_a_secret_shown_once(session: Session) -> None:
    client, secret = _client(session, "profile", "card")
    assert client.client_id.startswith("oc_") and secret.startswith("ocs_")
    row = session.scalars(
        select(OAuthClient).where(OAuthClient.client_id == client.client_id)
    ).one()
    assert row.secret_hash != secret and len(row.secret_hash) == 64
    assert oauth.authenticate_client(session, client_id=client.client_id, secret=secret) == client
    with pytest.raises(OAuthError) as wrong:
        oauth.authenticate_client(session, client_id=client.client_id, secret=secret + "x")
    assert (wrong.value.code, wrong.value.status_code) == ("invalid_client", 401)
    _, new_secret = oauth.rotate_secret(session, client_id=client.client_id)
    with pytest.raises(OAuthError):
        oauth.authenticate_client(session, client_id=client.client_id, secret=secret)
    assert oauth.authenticate_client(session, client_id=client.client_id, secret=new_secret)
    inst = iam_service.ensure_platform_institution(session).code
    with pytest.raises(ValidationFailed) as bad:
        oauth.register_client(
            session,
            data=ClientIn(
                name="x",
                institution_code=inst,
                redirect_uris=["http://evil.example/cb"],
                scopes=["profile"],
            ),
        )
    assert bad.value.fields[0].field == "redirect_uris.0"


def test_the_whole_flow_from_consent_to_userinfo(
    session: Session, holder: Callable[..., Holder]
) -> None:
    who = holder()
    client, _ = _client(session, "profile", "identity", "card", "insurance")
    verifier = _verifier()
    request = oauth.check_authorization(
        session, params=_params(client, "profile identity card insurance", verifier)
    )
    assert request.client_name == "某银行APP" and request.scopes[0] == "profile"
    person_id = oauth.resident_by_pin(session, id_number=who.id_number, pin=ECARD_PIN)
    code = _code_of(oauth.grant(session, request=request, person_id=person_id))
    stored = session.scalars(select(OAuthCode)).all()
    assert code not in {c.code_hash for c in stored}
    token = oauth.exchange(
        session, client=client, code=code, redirect_uri=REDIRECT, code_verifier=verifier
    )
    assert token.token_type == "Bearer" and token.expires_in == 600
    assert token.scope == "profile identity card insurance"
    found, _ = oauth.resolve_token(session, raw=token.access_token)
    info = oauth.userinfo(session, token=found)
    assert info["name"] == "测试人员" and info["id_number"] == who.id_number
    assert info["name_masked"] == "测***" and info["card_number"] == who.card.card_number
    assert info["card_status"] == "active" and isinstance(info["insurance"], list)
    assert len(info["sub"]) == 32


def test_userinfo_answers_only_the_granted_scopes_with_a_subject_per_client(
    session: Session, holder: Callable[..., Holder]
) -> None:
    who = holder()
    subjects = []
    for _ in range(2):
        client, _ = _client(session, "profile", "identity")
        verifier = _verifier()
        request = oauth.check_authorization(session, params=_params(client, "profile", verifier))
        code = _code_of(oauth.grant(session, request=request, person_id=who.person_id))
        token = oauth.exchange(
            session, client=client, code=code, redirect_uri=REDIRECT, code_verifier=verifier
        )
        info = oauth.userinfo(
            session, token=oauth.resolve_token(session, raw=token.access_token)[0]
        )
        assert set(info) == {"sub", "name_masked"}
        again = oauth.userinfo(
            session, token=oauth.resolve_token(session, raw=token.access_token)[0]
        )
        assert again["sub"] == info["sub"]
        subjects.append(info["sub"])
    assert subjects[0] != subjects[1]


def test_a_code_is_refused_with_a_wrong_verifier_redirect_or_client_and_after_60_seconds(
    session: Session, holder: Callable[..., Holder]
) -> None:
    who = holder()
    client, _ = _client(session, "profile")
    other, _ = _client(session, "profile")
    verifier = _verifier()
    request = oauth.check_authorization(session, params=_params(client, "profile", verifier))
    code = _code_of(oauth.grant(session, request=request, person_id=who.person_id))

    def refused(**changes: object) -> str:
        args: dict[str, object] = {
            "client": client,
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            **changes,
        }
        with pytest.raises(OAuthError) as caught:
            oauth.exchange(session, **args)  # type: ignore[arg-type]
        return caught.value.code

    assert refused(code_verifier=_verifier()) == "invalid_grant"
    assert refused(redirect_uri=REDIRECT + "/other") == "invalid_grant"
    assert refused(client=other) == "invalid_grant"
    assert refused(code="oac_unknown") == "invalid_grant"
    assert refused(code_verifier="") == "invalid_request"
    row = session.scalars(select(OAuthCode).where(OAuthCode.client_id == client.client_id)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    assert refused() == "invalid_grant"


def test_a_code_used_twice_is_refused(session: Session, holder: Callable[..., Holder]) -> None:
    who = holder()
    client, _ = _client(session, "profile")
    verifier = _verifier()
    request = oauth.check_authorization(session, params=_params(client, "profile", verifier))
    code = _code_of(oauth.grant(session, request=request, person_id=who.person_id))
    token = oauth.exchange(
        session, client=client, code=code, redirect_uri=REDIRECT, code_verifier=verifier
    )
    with pytest.raises(OAuthError) as reused:
        oauth.exchange(
            session, client=client, code=code, redirect_uri=REDIRECT, code_verifier=verifier
        )
    assert reused.value.code == "invalid_grant" and "已使用" in reused.value.message
    row = session.scalars(select(OAuthToken).where(OAuthToken.client_id == client.client_id)).one()
    assert row.token_hash != token.access_token and len(row.token_hash) == 64


def test_authorisation_requests_are_checked_before_anything_is_shown(session: Session) -> None:
    client, _ = _client(session, "profile")
    verifier = _verifier()

    def refusal(**changes: str) -> tuple[str, bool]:
        params = {**_params(client, "profile", verifier), **changes}
        with pytest.raises(OAuthError) as caught:
            oauth.check_authorization(session, params=params)
        return caught.value.code, caught.value.redirectable

    assert refusal(client_id="oc_nobody") == ("invalid_client", False)
    assert refusal(redirect_uri="https://evil.example/cb") == ("invalid_request", False)
    assert refusal(scope="identity") == ("invalid_scope", True)
    assert refusal(scope="email") == ("invalid_scope", True)
    assert refusal(response_type="token") == ("unsupported_response_type", True)
    assert refusal(code_challenge_method="plain") == ("invalid_request", True)
    assert refusal(code_challenge="") == ("invalid_request", True)
    oauth.set_client_status(session, client_id=client.client_id, status="disabled")
    assert refusal() == ("invalid_client", False)


def test_a_client_without_the_code_grant_is_an_unauthorized_client(session: Session) -> None:
    inst = iam_service.ensure_platform_institution(session).code
    client, _ = oauth.register_client(
        session,
        data=ClientIn(
            name="门户",
            institution_code=inst,
            redirect_uris=[REDIRECT],
            scopes=["profile"],
            grant_types=["scan_login"],
        ),
    )
    with pytest.raises(OAuthError) as caught:
        oauth.check_authorization(session, params=_params(client, "profile", _verifier()))
    assert (caught.value.code, caught.value.redirectable) == ("unauthorized_client", True)


def test_consent_needs_the_right_pin_and_a_usable_ecard(
    session: Session, holder: Callable[..., Holder], signer: Actor
) -> None:
    who = holder()
    with pytest.raises(EcardPinIncorrect):
        oauth.resident_by_pin(session, id_number=who.id_number, pin="135790")
    with pytest.raises(EcardPinIncorrect):
        oauth.resident_by_pin(session, id_number="11010519491231002X", pin=ECARD_PIN)
    client, _ = _client(session, "profile")
    request = oauth.check_authorization(session, params=_params(client, "profile", _verifier()))
    issuance.report_loss(session, card_ref=who.card.id, temporary=True, actor=signer)
    with pytest.raises(OAuthError) as refused:
        oauth.grant(session, request=request, person_id=who.person_id)
    assert refused.value.code == "access_denied"
    denied = oauth.deny(session, request=request, person_id=who.person_id)
    assert denied.startswith(REDIRECT + "?error=access_denied&") and denied.endswith("state=xyz")
