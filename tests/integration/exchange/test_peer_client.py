"""The one peer client against a real HTTP server on 127.0.0.1: refusals, outages, retries,
timeouts, and log lines that carry no personal data."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from tests.support import free_port

from sscard.exchange.errors import PeerRefused, PeerUnavailable
from sscard.exchange.peers import bank, client, config, province_batch, province_cards, transport
from sscard.exchange.peers.config import Peer, PeerTLS
from sscard.settings import reset_settings

ID_NUMBER = "37081119900307451X"
CARD_NUMBER = "A12345678"
BANK_ACCOUNT = "6217001234567890123"


class Counter:
    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def hit(self, name: str) -> int:
        self.calls[name] = self.calls.get(name, 0) + 1
        return self.calls[name]


def _app(counter: Counter) -> FastAPI:
    app = FastAPI()

    @app.post("/refuse")
    def refuse() -> JSONResponse:
        return JSONResponse({"error": "refused", "detail": f"卡号 {BANK_ACCOUNT} 已销户"}, 422)

    @app.api_route("/flaky", methods=["GET", "POST"])
    def flaky() -> JSONResponse:
        if counter.hit("flaky") <= 2:
            return JSONResponse({"detail": "维护中"}, 503)
        return JSONResponse({"ok": True})

    @app.post("/broken")
    def broken() -> JSONResponse:
        counter.hit("broken")
        return JSONResponse({"detail": "维护中"}, 503)

    @app.get("/slow")
    async def slow() -> dict[str, bool]:
        await asyncio.sleep(2)
        return {"ok": True}

    @app.post("/cards/{card_number}/echo")
    async def echo(card_number: str, request: Request) -> dict[str, str]:
        body = await request.json()
        return {"card_number": card_number, "id_number": body["id_number"]}

    @app.post("/accounts/balance")
    def balance() -> JSONResponse:
        if counter.hit("balance") == 1:
            return JSONResponse({"detail": "维护中"}, 503)
        return JSONResponse(
            {"balance_fen": 1200, "available_fen": 1000, "as_of": "2026-12-01T08:00:00+08:00"}
        )

    return app


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Counter]]:
    counter = Counter()
    port = free_port()
    uv = uvicorn.Server(
        uvicorn.Config(_app(counter), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", counter
    uv.should_exit = True
    thread.join(timeout=10)


def _peer(url: str, *, read_timeout: float = 5.0, retries: int = 2) -> Peer:
    return Peer(
        name="bank",
        title="合作银行 BANK-TEST",
        base_url=url,
        connect_timeout=2.0,
        read_timeout=read_timeout,
        retries=retries,
        backoff=0.01,
        label="bank:BANK-TEST",
    )


def test_a_refusal_is_peer_refused_with_the_peers_own_message_masked(
    server: tuple[str, Counter],
) -> None:
    url, _ = server
    with pytest.raises(PeerRefused) as refused:
        client.call(_peer(url), "POST", "/refuse", json={}, key="k-1")
    error = refused.value
    assert (error.status_code, error.code, error.peer) == (502, "bank_refused", "bank")
    assert "合作银行 BANK-TEST 拒绝办理" in error.message and "已销户" in error.reason
    assert BANK_ACCOUNT not in error.message


def test_an_unreachable_peer_is_peer_unavailable_after_the_retries_of_a_read() -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    peer = replace(_peer(nowhere), name="province", title="省卡管", label="province")
    with pytest.raises(PeerUnavailable) as unavailable:
        client.call(peer, "POST", "/province/cards/query", json={}, retry=True)
    error = unavailable.value
    assert (error.status_code, error.code) == (503, "province_unavailable")
    assert "省卡管系统暂时无法访问" in error.message


def test_a_503_is_retried_for_a_read_then_succeeds(server: tuple[str, Counter]) -> None:
    url, counter = server
    counter.calls.pop("flaky", None)
    assert client.call(_peer(url), "GET", "/flaky", retry=True) == {"ok": True}
    assert counter.calls["flaky"] == 3


def test_a_change_is_sent_once_and_its_503_left_to_the_outbox(
    server: tuple[str, Counter],
) -> None:
    url, counter = server
    counter.calls.pop("broken", None)
    with pytest.raises(PeerUnavailable, match="HTTP 503") as unavailable:
        client.call(_peer(url), "POST", "/broken", json={}, key="k-2")
    assert unavailable.value.code == "bank_unavailable"
    assert counter.calls["broken"] == 1


def test_retries_are_bounded(server: tuple[str, Counter]) -> None:
    url, counter = server
    counter.calls.pop("broken", None)
    with pytest.raises(PeerUnavailable):
        client.call(_peer(url, retries=1), "POST", "/broken", json={}, retry=True)
    assert counter.calls["broken"] == 2


def test_a_peer_that_does_not_answer_in_time_is_unavailable(server: tuple[str, Counter]) -> None:
    url, _ = server
    started = time.monotonic()
    with pytest.raises(PeerUnavailable, match="响应超时") as unavailable:
        client.call(_peer(url, read_timeout=0.2, retries=0), "GET", "/slow")
    assert unavailable.value.code == "bank_unavailable"
    assert time.monotonic() - started < 1.5


def test_log_lines_name_peer_method_path_status_and_time_but_no_personal_data(
    server: tuple[str, Counter], caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = server
    with caplog.at_level(logging.INFO, logger="sscard.exchange.peers"):
        answer = client.call(
            _peer(url), "POST", f"/cards/{CARD_NUMBER}/echo", json={"id_number": ID_NUMBER}
        )
        with pytest.raises(PeerRefused):
            client.call(_peer(url), "POST", "/refuse", json={"id_number": ID_NUMBER})
    assert answer == {"card_number": CARD_NUMBER, "id_number": ID_NUMBER}
    lines = [r.getMessage() for r in caplog.records if r.name == "sscard.exchange.peers"]
    assert lines[0].startswith("peer=bank:BANK-TEST method=POST path=/cards/*/echo status=200")
    assert "elapsed_ms=" in lines[0] and "status=422" in lines[1]
    for text in lines:
        for secret in (CARD_NUMBER, ID_NUMBER, "307451", BANK_ACCOUNT, "已销户"):
            assert secret not in text


def test_the_bank_adapter_retries_a_balance_query_through_the_client(
    server: tuple[str, Counter], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, counter = server
    monkeypatch.setenv("SSCARD_BANK_URLS", json.dumps({"BANK-TEST": url}))
    monkeypatch.setenv("SSCARD_PEER_BACKOFF_SECONDS", "0.01")
    reset_settings()
    try:
        found = bank.balance(bank_code="BANK-TEST", card_number=CARD_NUMBER, account="1")
    finally:
        monkeypatch.undo()
        reset_settings()
    assert found.balance_fen == 1200 and counter.calls["balance"] == 2


def test_mutual_tls_is_configured_per_peer_and_a_bank_by_its_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tls = {
        "bank": {"ca": "/etc/sscard/banks-ca.pem"},
        "bank:BANK-ICBC": {"cert": "/etc/sscard/city.crt", "key": "/etc/sscard/city.key"},
    }
    monkeypatch.setenv("SSCARD_PEER_TLS", json.dumps(tls))
    monkeypatch.setenv("SSCARD_PEER_CONNECT_TIMEOUT_SECONDS", "3")
    reset_settings()
    try:
        icbc = config.peer("bank", "合作银行 BANK-ICBC", "https://icbc/", instance="BANK-ICBC")
        other = config.peer("bank", "合作银行 BANK-CCB", "https://ccb", instance="BANK-CCB")
        province = config.peer("province", "省卡管", "https://province")
    finally:
        monkeypatch.undo()
        reset_settings()
    assert icbc.tls == PeerTLS(cert=Path("/etc/sscard/city.crt"), key=Path("/etc/sscard/city.key"))
    assert other.tls == PeerTLS(ca=Path("/etc/sscard/banks-ca.pem"))
    assert province.tls is None and icbc.base_url == "https://icbc"
    assert icbc.connect_timeout == 3 and icbc.label == "bank:BANK-ICBC"
    with pytest.raises(PeerUnavailable, match="SSCARD_PEER_TLS") as unreadable:
        config.ssl_context(
            PeerTLS(cert=Path("/nonexistent.crt"), key=Path("/nonexistent.key")), "bank"
        )
    assert (unreadable.value.status_code, unreadable.value.code) == (503, "bank_unavailable")


def test_every_peer_without_an_address_is_503_naming_its_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("SSCARD_PROVINCE_URL", "SSCARD_BANK_URLS", "SSCARD_TRANSPORT_URL"):
        monkeypatch.delenv(name, raising=False)
    reset_settings()
    try:
        calls = [
            ("SSCARD_PROVINCE_URL", "province", lambda: province_batch.state(batch_no="B1")),
            ("SSCARD_PROVINCE_URL", "province", lambda: province_cards.cards_of(id_number="1")),
            (
                "SSCARD_BANK_URLS",
                "bank",
                lambda: bank.unbind_card(bank_code="BK", card_number="1", key="k"),
            ),
            (
                "SSCARD_TRANSPORT_URL",
                "transport",
                lambda: transport.disable(card_number="1", key="k"),
            ),
        ]
        for setting, peer_name, call in calls:
            with pytest.raises(PeerUnavailable) as missing:
                call()
            assert missing.value.status_code == 503
            assert missing.value.code == f"{peer_name}_unavailable"
            assert setting in missing.value.message and "未配置" in missing.value.message
    finally:
        monkeypatch.undo()
        reset_settings()
