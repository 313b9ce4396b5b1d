"""Pages may not be framed and run only the vendored scripts; /metrics can be closed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from tests.support import LiveServer, start_server, stop_server

PAGES = ("/login", "/wallet/login", "/wallet/consent", "/portal-demo", "/ecard/credential")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_forbids_framing_and_inline_scripts(live_server: LiveServer, path: str) -> None:
    with live_server.client() as http:
        page = http.get(path)
    assert page.status_code < 500, page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    policy = {
        d.split(" ", 1)[0]: d.split(" ", 1)[1]
        for d in page.headers["content-security-policy"].split("; ")
    }
    assert policy["frame-ancestors"] == "'none'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert "unsafe-inline" not in page.headers["content-security-policy"]


def test_api_answers_carry_the_baseline_headers(live_server: LiveServer) -> None:
    with live_server.client() as http:
        answer = http.get("/api/v1/no-such-thing")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"


def test_templates_hold_no_inline_script_style_or_handler() -> None:
    templates = Path(__file__).parents[2] / "src" / "sscard" / "web" / "templates"
    for template in templates.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "<script>" not in text and "<style" not in text, template
        assert " style=" not in text and " onclick=" not in text, template


def test_metrics_are_open_unless_a_token_is_set(
    live_server: LiveServer, engine: Engine, tmp_path: Path
) -> None:
    with live_server.client() as http:
        assert http.get("/metrics").status_code == 200
    server = start_server(tmp_path / "server.log", extra_env={"SSCARD_METRICS_TOKEN": "m-secret-1"})
    try:
        refused = httpx.get(f"{server.url}/metrics")
        assert refused.status_code == 401
        assert refused.json()["error"] == "not_authenticated"
        wrong = httpx.get(f"{server.url}/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        good = httpx.get(f"{server.url}/metrics", headers={"Authorization": "Bearer m-secret-1"})
        assert good.status_code == 200 and "sscard_http_requests_total" in good.text
    finally:
        stop_server(server)
