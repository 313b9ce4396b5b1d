"""The HTTP contract of the platform, through a real server process."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
from tests.support import Account, LiveServer, login


def _error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail", "fields"}
    assert body["error"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    return dict(body)


def test_health_readiness_metrics_and_docs_answer(live_server: LiveServer) -> None:
    with live_server.client() as http:
        assert http.get("/healthz").json()["status"] == "ok"
        assert http.get("/readyz").json()["status"] == "ready"
        http.get("/healthz")
        metrics = http.get("/metrics")
        assert metrics.status_code == 200
        assert (
            'sscard_http_requests_total{method="GET",route="/healthz",status="200"}' in metrics.text
        )
        assert http.get("/api/docs").status_code == 200
        assert "/api/v1/auth/token" in http.get("/api/openapi.json").json()["paths"]


def test_every_response_carries_a_request_id(live_server: LiveServer) -> None:
    with live_server.client() as http:
        generated = http.get("/healthz").headers["x-request-id"]
        assert len(generated) == 16
        echoed = http.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
        assert echoed == "abc-123"
        replaced = http.get("/nope", headers={"X-Request-ID": "bad id;drop"}).headers[
            "x-request-id"
        ]
        assert replaced != "bad id"


def test_unknown_routes_use_the_one_error_body(live_server: LiveServer) -> None:
    with live_server.client() as http:
        _error(http.get("/api/v1/no-such-thing"), 404, "not_found")
        _error(http.delete("/healthz"), 405, "method_not_allowed")


def test_a_token_is_issued_for_good_credentials_only(live_server: LiveServer, make_account) -> None:
    account: Account = make_account("clerk")
    token = login(live_server, account)
    with live_server.client(token) as http:
        me = http.get("/api/v1/auth/me").json()
        assert me["username"] == account.username and me["roles"] == ["clerk"]
    with live_server.client() as http:
        bad = http.post(
            "/api/v1/auth/token", data={"username": account.username, "password": "wrong1234"}
        )
        body = _error(bad, 401, "invalid_credentials")
        assert body["detail"] == "用户名或密码错误"
        assert bad.headers["www-authenticate"] == "Bearer"


def test_five_wrong_passwords_lock_the_account(live_server: LiveServer, make_account) -> None:
    account: Account = make_account("clerk")
    with live_server.client() as http:
        for _ in range(5):
            _error(
                http.post(
                    "/api/v1/auth/token",
                    data={"username": account.username, "password": "wrong1234"},
                ),
                401,
                "invalid_credentials",
            )
        locked = http.post(
            "/api/v1/auth/token", data={"username": account.username, "password": account.password}
        )
        assert "锁定" in str(_error(locked, 423, "account_locked")["detail"])


def test_missing_revoked_and_garbage_tokens_get_401(live_server: LiveServer, make_account) -> None:
    token = login(live_server, make_account("admin"))
    with live_server.client() as http:
        _error(http.get("/api/v1/institutions"), 401, "not_authenticated")
        _error(
            http.get("/api/v1/institutions", headers={"Authorization": "Bearer sst_garbage"}),
            401,
            "token_invalid",
        )
    with live_server.client(token) as http:
        assert http.get("/api/v1/institutions").status_code == 200
        assert http.post("/api/v1/auth/logout").status_code == 204
        _error(http.get("/api/v1/institutions"), 401, "token_revoked")


def test_missing_permission_is_403_and_audited(live_server: LiveServer, make_account) -> None:
    clerk = login(live_server, make_account("clerk"))
    auditor = login(live_server, make_account("auditor"))
    with live_server.client(clerk) as http:
        denied = http.get("/api/v1/audit/entries", headers={"X-Request-ID": "deny-check-1"})
        assert "audit.read" in str(_error(denied, 403, "permission_denied")["detail"])
    with live_server.client(auditor) as http:
        page = http.get("/api/v1/audit/entries", params={"request_id": "deny-check-1"}).json()
        assert [e["outcome"] for e in page["items"]] == ["denied"]
        assert page["items"][0]["action"] == "iam.permission_denied"
        assert http.get("/api/v1/audit/verify").json()["ok"] is True


def test_bad_bodies_are_refused_with_named_fields_and_nothing_is_written(
    live_server: LiveServer, make_account
) -> None:
    token = login(live_server, make_account("admin"))
    with live_server.client(token) as http:
        malformed = http.post(
            "/api/v1/institutions",
            content=b'{"code": ',
            headers={"Content-Type": "application/json"},
        )
        _error(malformed, 422, "validation_failed")
        unknown = http.post(
            "/api/v1/institutions",
            json={
                "code": "E2E-X1",
                "name": "x",
                "type": "bank",
                "region_code": "370800",
                "colour": 1,
            },
        )
        fields = _error(unknown, 422, "validation_failed")["fields"]
        assert {"field": "colour", "reason": "不允许的字段"} in fields  # type: ignore[operator]
        wrong_type = http.post(
            "/api/v1/institutions",
            json={"code": "E2E-X2", "name": "x", "type": "castle", "region_code": 370800},
        )
        named = {f["field"] for f in _error(wrong_type, 422, "validation_failed")["fields"]}  # type: ignore[attr-defined]
        assert named == {"type", "region_code"}
        oversized = http.post(
            "/api/v1/institutions",
            content=b"x" * (3 * 1024 * 1024),
            headers={"Content-Type": "application/json"},
        )
        _error(oversized, 413, "request_too_large")
        codes = {i["code"] for i in http.get("/api/v1/institutions").json()}
        assert not {"E2E-X1", "E2E-X2"} & codes


def test_an_administrator_manages_institutions_channels_and_operators(
    live_server: LiveServer, make_account
) -> None:
    token = login(live_server, make_account("admin"))
    with live_server.client(token) as http:
        created = http.post(
            "/api/v1/institutions",
            json={"code": "E2E-BANK", "name": "测试银行", "type": "bank", "region_code": "370800"},
        )
        assert created.status_code == 201 and created.json()["type_name"] == "合作银行"
        _error(
            http.post(
                "/api/v1/institutions",
                json={"code": "E2E-BANK", "name": "重复", "type": "bank", "region_code": "370800"},
            ),
            409,
            "duplicate",
        )
        channel = http.post(
            "/api/v1/channels",
            json={
                "code": "E2E-APP",
                "name": "测试银行APP",
                "type": "bank_app",
                "owner_institution_code": "E2E-BANK",
            },
        )
        assert channel.status_code == 201
        operator = http.post(
            "/api/v1/operators",
            json={
                "username": "e2e-bank1",
                "name": "银行经办",
                "institution_code": "E2E-BANK",
                "roles": ["bank_agent"],
                "password": "bank12345",
            },
        )
        assert operator.status_code == 201 and operator.json()["roles"] == ["bank_agent"]
        weak = http.post(
            "/api/v1/operators",
            json={
                "username": "e2e-bank2",
                "name": "银行经办",
                "institution_code": "E2E-BANK",
                "roles": ["bank_agent"],
                "password": "short",
            },
        )
        assert _error(weak, 422, "weak_password")["fields"][0]["field"] == "password"  # type: ignore[index]
        roles = {r["code"] for r in http.get("/api/v1/roles").json()}
        assert {
            "admin",
            "clerk",
            "card_manager",
            "bank_agent",
            "vendor_agent",
            "auditor",
            "analyst",
        } <= roles


def test_a_streamed_body_over_the_limit_is_refused_without_a_length_header(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    token = login(live_server, make_account("admin"))

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 65536

    with live_server.client(token) as http:
        response = http.post(
            "/api/v1/institutions", content=chunks(), headers={"Content-Type": "application/json"}
        )
        _error(response, 413, "request_too_large")
