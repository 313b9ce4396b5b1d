"""The e-card's online services through a real server process: authorisation (OAuth 2.0 with
PKCE) from the authorize redirect to userinfo, scan login with a long poll, family service at
a terminal, credentials, my insurance and who accessed my data."""

from __future__ import annotations

import base64
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tests.e2e.test_ecard_online_support import (
    ECARD_PIN,
    error_of,
    register_client,
    report_loss,
    resident,
    verify_at,
    world,
)
from tests.support import Account, LiveServer, login

from sscard.ecard.oauth import rules as oauth_rules

REDIRECT = "https://bank.example.cn/oauth/callback"


@pytest.fixture(scope="module")
def admin(live_server: LiveServer, make_account: Callable[..., Account]) -> str:
    return login(live_server, make_account("admin"))


@pytest.fixture(scope="module")
def partner(live_server: LiveServer, admin: str) -> tuple[str, str]:
    """A bank app allowed to ask for the masked name and the card."""
    return register_client(
        live_server,
        admin,
        name="某银行手机银行",
        institution_code="PLATFORM",
        redirect_uris=[REDIRECT],
        scopes=["profile", "card"],
    )


@pytest.fixture(scope="module")
def portal(live_server: LiveServer, admin: str) -> tuple[str, str]:
    return register_client(
        live_server,
        admin,
        name="市政务服务网",
        institution_code="PLATFORM",
        scopes=["profile", "identity"],
        grant_types=["scan_login"],
    )


def _basic(client: tuple[str, str]) -> dict[str, str]:
    raw = base64.b64encode(f"{client[0]}:{client[1]}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def _authorize_params(client_id: str, verifier: str, scope: str = "profile card") -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "st-42",
        "code_challenge": oauth_rules.s256(verifier),
        "code_challenge_method": "S256",
    }


def _consent(
    server: LiveServer,
    params: dict[str, str],
    form: dict[str, str],
    cookies: dict[str, str] | None = None,
) -> httpx.Response:
    """Follow the authorize redirect to the consent page and submit it; the last response."""
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as browser:
        for name, value in (cookies or {}).items():
            browser.cookies.set(name, value, path="/wallet")
        sent = browser.get("/api/v1/ecard/oauth/authorize", params=params)
        assert sent.status_code == 303, sent.text
        page = browser.get(sent.headers["location"])
        assert page.status_code == 200 and page.headers["x-frame-options"] == "DENY"
        assert "某银行手机银行" in page.text
        fields = dict(
            re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', page.text)
        )
        assert fields["client_id"] == params["client_id"]
        return browser.post("/wallet/consent", data={**fields, **form})


def _code(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    target = urlsplit(response.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == REDIRECT
    query = parse_qs(target.query)
    assert query["state"] == ["st-42"]
    return query["code"][0]


def _token(
    server: LiveServer,
    client: tuple[str, str],
    code: str,
    verifier: str,
    redirect_uri: str = REDIRECT,
) -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        return http.post(
            "/api/v1/ecard/oauth/token",
            headers=_basic(client),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
        )


def _userinfo(server: LiveServer, token: str) -> httpx.Response:
    with server.client(token) as http:
        return http.get("/api/v1/ecard/oauth/userinfo")


def test_a_partner_gets_a_code_a_token_and_the_userinfo_the_resident_agreed_to(
    live_server: LiveServer, partner: tuple[str, str]
) -> None:
    who = resident()
    verifier = secrets.token_urlsafe(48)
    answer = _consent(
        live_server,
        _authorize_params(partner[0], verifier),
        {"decision": "allow", "id_number": who.id_number, "ecard_pin": ECARD_PIN},
    )
    code = _code(answer)
    issued = _token(live_server, partner, code, verifier)
    assert issued.status_code == 200, issued.text
    assert issued.headers["cache-control"] == "no-store"
    body = issued.json()
    assert (body["token_type"], body["expires_in"], body["scope"]) == (
        "Bearer",
        600,
        "profile card",
    )
    info = _userinfo(live_server, body["access_token"])
    assert info.status_code == 200, info.text
    assert set(info.json()) == {"sub", "name_masked", "card_number", "card_status"}
    assert info.json()["name_masked"] == "测***" and info.json()["card_status"] == "active"
    assert who.id_number not in info.text
    reused = _token(live_server, partner, code, verifier)
    error_of(reused, 400, "invalid_grant")
    error_of(_userinfo(live_server, body["access_token"]), 401, "invalid_token")


def test_a_resident_logged_in_to_the_wallet_consents_with_one_tap_or_refuses(
    live_server: LiveServer, partner: tuple[str, str]
) -> None:
    who = resident()
    verifier = secrets.token_urlsafe(48)
    wallet = {"sscard_wallet": who.token}
    code = _code(
        _consent(
            live_server, _authorize_params(partner[0], verifier), {"decision": "allow"}, wallet
        )
    )
    assert _token(live_server, partner, code, verifier).status_code == 200
    refused = _consent(live_server, _authorize_params(partner[0], verifier), {"decision": "deny"})
    target = parse_qs(urlsplit(refused.headers["location"]).query)
    assert target["error"] == ["access_denied"] and target["state"] == ["st-42"]


def test_a_wrong_pin_is_answered_on_the_consent_page(
    live_server: LiveServer, partner: tuple[str, str]
) -> None:
    who = resident()
    answer = _consent(
        live_server,
        _authorize_params(partner[0], secrets.token_urlsafe(48)),
        {"decision": "allow", "id_number": who.id_number, "ecard_pin": "135790"},
    )
    assert answer.status_code == 401 and "证件号码或电子社保卡密码错误" in answer.text


def test_pkce_mismatch_wrong_redirect_and_a_stranger_client_are_refused(
    live_server: LiveServer, partner: tuple[str, str], admin: str
) -> None:
    who = resident()
    verifier = secrets.token_urlsafe(48)
    code = _code(
        _consent(
            live_server,
            _authorize_params(partner[0], verifier),
            {"decision": "allow", "id_number": who.id_number, "ecard_pin": ECARD_PIN},
        )
    )
    mismatch = error_of(
        _token(live_server, partner, code, secrets.token_urlsafe(48)), 400, "invalid_grant"
    )
    assert "PKCE" in mismatch["detail"]
    error_of(_token(live_server, partner, code, verifier, REDIRECT + "/x"), 400, "invalid_grant")
    other = register_client(
        live_server,
        admin,
        name="另一个应用",
        institution_code="PLATFORM",
        redirect_uris=[REDIRECT],
        scopes=["profile"],
    )
    error_of(_token(live_server, other, code, verifier), 400, "invalid_grant")
    error_of(_token(live_server, (partner[0], "ocs_wrong"), code, verifier), 401, "invalid_client")
    assert _token(live_server, partner, code, verifier).status_code == 200


def test_requests_the_client_may_not_make_never_reach_the_consent_page(
    live_server: LiveServer, partner: tuple[str, str]
) -> None:
    verifier = secrets.token_urlsafe(48)
    with httpx.Client(base_url=live_server.url, follow_redirects=False, timeout=30) as browser:
        scope = browser.get(
            "/api/v1/ecard/oauth/authorize",
            params=_authorize_params(partner[0], verifier, "profile identity"),
        )
        assert scope.status_code == 303
        query = parse_qs(urlsplit(scope.headers["location"]).query)
        assert scope.headers["location"].startswith(REDIRECT + "?")
        assert query["error"] == ["invalid_scope"] and query["state"] == ["st-42"]
        plain = browser.get(
            "/api/v1/ecard/oauth/authorize",
            params={**_authorize_params(partner[0], verifier), "code_challenge_method": "plain"},
        )
        assert parse_qs(urlsplit(plain.headers["location"]).query)["error"] == ["invalid_request"]
        elsewhere = browser.get(
            "/api/v1/ecard/oauth/authorize",
            params={
                **_authorize_params(partner[0], verifier),
                "redirect_uri": "https://evil.example/cb",
            },
        )
        error_of(elsewhere, 400, "invalid_request")
        nobody = browser.get(
            "/api/v1/ecard/oauth/authorize", params={**_authorize_params("oc_nobody", verifier)}
        )
        error_of(nobody, 400, "invalid_client")
        page = browser.get(
            "/wallet/consent",
            params={
                **_authorize_params(partner[0], verifier),
                "redirect_uri": "https://evil.example/cb",
            },
        )
        assert page.status_code == 400 and "回调地址" in page.text


def _poll(
    server: LiveServer, portal: tuple[str, str], ticket: str, wait: int = 0
) -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        return http.get(
            f"/api/v1/ecard/login-tickets/{ticket}", params={"wait": wait}, headers=_basic(portal)
        )


def test_scan_login_with_a_long_poll_and_a_single_read(
    live_server: LiveServer, portal: tuple[str, str], partner: tuple[str, str]
) -> None:
    who = resident()
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        made = http.post(
            "/api/v1/ecard/login-tickets", json={"scope": "profile"}, headers=_basic(portal)
        )
        assert made.status_code == 201, made.text
        ticket = made.json()
        assert ticket["expires_in"] == 120 and ticket["qr_text"] == "ELT" + ticket["ticket_id"]
        error_of(http.post("/api/v1/ecard/login-tickets", json={}), 401, "invalid_client")
        error_of(
            http.post("/api/v1/ecard/login-tickets", json={}, headers=_basic(partner)),
            400,
            "unauthorized_client",
        )
    assert _poll(live_server, portal, ticket["ticket_id"]).json()["status"] == "pending"
    with live_server.client(who.token) as wallet:
        preview = wallet.get(f"/api/v1/ecard/login-tickets/{ticket['ticket_id']}/preview")
        assert preview.json()["client_name"] == "市政务服务网"
        assert [s["description"] for s in preview.json()["scopes"]] == ["姓名（脱敏）"]
    result: dict[str, Any] = {}

    def long_poll() -> None:
        started = time.monotonic()
        result["response"] = _poll(live_server, portal, ticket["ticket_id"], wait=25)
        result["seconds"] = time.monotonic() - started

    waiting = threading.Thread(target=long_poll)
    waiting.start()
    time.sleep(1.5)
    with live_server.client(who.token) as wallet:
        confirmed = wallet.post(f"/api/v1/ecard/login-tickets/{ticket['ticket_id']}/confirm")
        assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
        again = wallet.post(f"/api/v1/ecard/login-tickets/{ticket['ticket_id']}/confirm")
        error_of(again, 409, "login_ticket_used")
    waiting.join(30)
    answer = result["response"].json()
    assert 1.0 < result["seconds"] < 10, result["seconds"]
    assert answer["status"] == "confirmed" and answer["identity"]["name_masked"] == "测***"
    assert set(answer["identity"]) == {"sub", "name_masked"}
    later = _poll(live_server, portal, ticket["ticket_id"]).json()
    assert (later["status"], later["identity"]) == ("used", None)


def test_a_long_poll_on_a_pending_ticket_returns_when_the_wait_runs_out(
    live_server: LiveServer, portal: tuple[str, str]
) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        ticket = http.post("/api/v1/ecard/login-tickets", headers=_basic(portal)).json()
    started = time.monotonic()
    answer = _poll(live_server, portal, ticket["ticket_id"], wait=2)
    assert answer.json()["status"] == "pending" and 1.8 < time.monotonic() - started < 6


def test_family_service_at_a_terminal(live_server: LiveServer, admin: str) -> None:
    parent, child, mother = resident(41), resident(7), resident(75)
    with live_server.client(parent.token) as app:
        made = app.post(
            "/api/v1/ecard/me/family",
            json={"member_id_number": child.id_number, "member_name": "测试人员"},
        )
        assert made.status_code == 201, made.text
        minor = made.json()
        assert (minor["status"], minor["relation"]) == ("active", "minor")
        assert child.id_number not in made.text
        code = app.post(f"/api/v1/ecard/me/family/{minor['id']}/codes", params={"business": 1})
        assert code.status_code == 200, code.text
        error_of(
            app.post(f"/api/v1/ecard/me/family/{minor['id']}/codes", params={"business": 2}),
            422,
            "proxy_payment_refused",
        )
        svg = app.get(f"/api/v1/ecard/me/family/{minor['id']}/codes/current.svg")
        assert svg.headers["content-type"].startswith("image/svg+xml")
        elder = app.post(
            "/api/v1/ecard/me/family",
            json={"member_id_number": mother.id_number, "member_name": "测试人员"},
        ).json()
        assert elder["status"] == "pending"
        error_of(app.post(f"/api/v1/ecard/me/family/{elder['id']}/codes"), 422, "family_refused")
    seen = verify_at(live_server, "library", code.json()["code"], 1)
    assert seen.status_code == 200, seen.text
    assert seen.json()["proxy"] is True and seen.json()["holder"]["name_masked"] == "测***"
    with live_server.client(mother.token) as own:
        asked = own.get("/api/v1/ecard/me/family-requests").json()
        assert [(r["id"], r["status"]) for r in asked] == [(elder["id"], "pending")]
        agreed = own.post(f"/api/v1/ecard/me/family-requests/{elder['id']}/consent")
        assert agreed.json()["consent"] == "member_ecard"
    with live_server.client(parent.token) as app:
        listed = app.get("/api/v1/ecard/me/family").json()
        assert {m["status"] for m in listed} == {"active"} and len(listed) == 2
        medical = app.post(f"/api/v1/ecard/me/family/{elder['id']}/codes", params={"business": 4})
        unused = app.post(f"/api/v1/ecard/me/family/{minor['id']}/codes").json()["code"]
        assert app.delete(f"/api/v1/ecard/me/family/{minor['id']}").status_code == 204
    hospital = verify_at(live_server, "hospital", medical.json()["code"], 4)
    assert (
        hospital.json()["proxy"] is True
        and hospital.json()["holder"]["id_number"] == mother.id_number
    )
    error_of(verify_at(live_server, "library", unused), 410, "card_revoked")


def test_a_clerk_records_an_elders_consent_at_the_counter(
    live_server: LiveServer, admin: str, make_account: Callable[..., Account]
) -> None:
    son, father = resident(45), resident(82)
    with live_server.client(son.token) as app:
        pending = app.post(
            "/api/v1/ecard/me/family",
            json={"member_id_number": father.id_number, "member_name": "测试人员"},
        ).json()
    clerk = login(live_server, make_account("clerk"))
    with live_server.client(clerk) as desk:
        error_of(
            desk.post(f"/api/v1/ecard/family-bindings/{pending['id']}/counter-consent"),
            403,
            "permission_denied",
        )
    with live_server.client(admin) as desk:
        found = desk.post(
            "/api/v1/ecard/family-bindings/search", json={"member_id_number": father.id_number}
        ).json()
        assert [b["id"] for b in found] == [pending["id"]]
        recorded = desk.post(f"/api/v1/ecard/family-bindings/{pending['id']}/counter-consent")
        assert (recorded.json()["status"], recorded.json()["consent"]) == ("active", "counter")


def test_a_credential_is_valid_until_the_card_is_reported_lost(live_server: LiveServer) -> None:
    who = resident()
    with live_server.client(who.token) as app:
        shown = app.get("/api/v1/ecard/me/credential")
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    credential = shown.json()["credential"]
    assert credential.startswith("ECR") and shown.json()["svg"].startswith("<svg")
    with httpx.Client(base_url=live_server.url, timeout=30) as anyone:
        checked = anyone.post("/api/v1/ecard/credentials/verify", json={"credential": credential})
        assert checked.json()["valid"] is True, checked.text
        assert checked.json()["holder"]["name_masked"] == "测***"
        tampered = credential[:-2] + ("AA" if credential[-2:] != "AA" else "BB")
        bad = anyone.post("/api/v1/ecard/credentials/verify", json={"credential": tampered}).json()
        assert (bad["valid"], bad["holder"]) == (False, None)
        page = anyone.get("/ecard/credential")
        form = {"csrf_token": anyone.cookies["sscard_csrf"], "credential": credential}
        shown_page = anyone.post("/ecard/credential", data=form)
        assert 'data-valid="true"' in shown_page.text and "测***" in shown_page.text
        report_loss(who)
        lost = anyone.post(
            "/api/v1/ecard/credentials/verify", json={"credential": credential}
        ).json()
        assert (lost["valid"], lost["reason"]) == (False, "card_suspended")
        lost_page = anyone.post("/ecard/credential", data=form)
        assert 'data-valid="false"' in lost_page.text and "已挂失" in lost_page.text
        assert page.status_code == 200


def test_my_insurance_the_placeholders_and_who_accessed_my_data(live_server: LiveServer) -> None:
    who = resident()
    with live_server.client(who.token) as app:
        code = app.post("/api/v1/ecard/me/codes", params={"business": 1}).json()["code"]
        assert verify_at(live_server, "library", code, 1).status_code == 200
        mine = app.get("/api/v1/ecard/me/insurance").json()
        assert [(i["insurance_type"], i["status"]) for i in mine["items"]] == [("110", "enrolled")]
        for topic in ("benefits", "rights", "contributions"):
            answer = app.get(f"/api/v1/ecard/me/{topic}").json()
            assert answer["available"] is False and "暂无数据" in answer["message"]
        log = app.get("/api/v1/ecard/me/access-log", params={"page_size": 10}).json()
        verified = [e for e in log["items"] if e["action"] == "ecard.verify"]
        assert verified and verified[0]["actor_kind_name"] == "受理终端"
        assert verified[0]["action_name"] == "扫码核验电子社保卡"
        assert all(e["actor_kind"] != "resident" for e in log["items"])
        everything = app.get("/api/v1/ecard/me/access-log", params={"include_self": True}).json()
        assert everything["total"] > log["total"]
    with live_server.client() as nobody:
        error_of(nobody.get("/api/v1/ecard/me/insurance"), 401, "not_authenticated")


def test_only_administrators_register_clients(
    live_server: LiveServer, make_account: Callable[..., Account], partner: tuple[str, str]
) -> None:
    clerk = login(live_server, make_account("clerk"))
    with live_server.client(clerk) as http:
        refused = http.post(
            "/api/v1/ecard/oauth/clients",
            json={
                "name": "x",
                "institution_code": "PLATFORM",
                "redirect_uris": [REDIRECT],
                "scopes": ["profile"],
            },
        )
        error_of(refused, 403, "permission_denied")
    assert world().channel


def test_an_administrator_registers_a_portal_from_the_command_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSCARD_")}
    env.update(
        {
            "SSCARD_MASTER_KEY": os.environ["SSCARD_MASTER_KEY"],
            "SSCARD_DATA_DIR": str(tmp_path / "var"),
            "SSCARD_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
            "COLUMNS": "200",
        }
    )

    def sscard(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sscard.cli.main", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert sscard("db", "upgrade").returncode == 0
    admin = sscard("operators", "create-admin", "--username", "root", "--password", "root12345")
    assert admin.returncode == 0, admin.stderr
    made = sscard(
        "ecard-clients",
        "register",
        "--name",
        "市政务服务网",
        "--institution",
        "PLATFORM",
        "--scope",
        "profile",
        "--grant",
        "scan_login",
    )
    assert made.returncode == 0, made.stderr
    client_id = re.search(r"client_id\s+(oc_[0-9a-f]{16})", made.stdout)
    assert client_id is not None and re.search(r"client_secret\s+ocs_\S{40,}", made.stdout)
    listed = sscard("ecard-clients", "list").stdout
    assert client_id.group(1) in listed and "scan_login" in listed
    assert sscard("ecard-clients", "disable", client_id.group(1)).returncode == 0
    assert "disabled" in sscard("ecard-clients", "list").stdout
    refused = sscard(
        "ecard-clients",
        "register",
        "--name",
        "x",
        "--institution",
        "PLATFORM",
        "--scope",
        "profile",
        "--redirect-uri",
        "http://evil.example/cb",
    )
    assert refused.returncode == 1 and "https" in refused.stderr
