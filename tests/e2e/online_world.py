"""A world for online banking and contributions: the bank and the social insurance system
as their own processes, keys exchanged as partners do (the platform's pay-request key into
the bank's trust folder, the bank's notice key into the platform's key store), and a
platform process told where both listen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from tests.support import LiveServer, free_port, start_server, stop_server

from sscard import db
from sscard.kit.context import SYSTEM
from sscard.payments.contributions import service as contributions_service
from sscard.payments.online import keys as online_keys
from sscard.payments.orders import service as orders_service

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class OnlineWorld:
    server: LiveServer
    bank: str
    social: str
    env: dict[str, str]
    data: Path
    processes: list[subprocess.Popen[bytes]]


def _start_peer(name: str, logs: Path, env: dict[str, str]) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", f"peers.{name}", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=(logs / f"{name}.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, (logs / f"{name}.log").read_text(errors="replace")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return url, process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"peer {name} did not start")


def online_world(
    logs: Path, bank_codes: list[str], dialect: str, extra_env: dict[str, str] | None = None
) -> Iterator[OnlineWorld]:
    """Start the peers and a platform that knows them (and ``extra_env``, e.g. where a
    further peer listens); stop them afterwards."""
    trust = logs / "trust"
    peer_env = {"PEER_TRUST_DIR": str(trust)}
    bank, bank_process = _start_peer(
        "bank", logs, {**peer_env, "PEER_DATA_DIR": str(logs / "bank")}
    )
    social, social_process = _start_peer("social", logs, {"PEER_DATA_DIR": str(logs / "social")})
    with db.transaction() as session:
        online_keys.publish(session, directory=trust)
        for code in bank_codes:
            online_keys.import_bank_key(
                session, bank_code=code, pem_text=(trust / "bank.pem").read_text()
            )
    env = {
        "SSCARD_BANK_URLS": json.dumps({"*": bank}),
        "SSCARD_SOCIAL_URL": social,
        **(extra_env or {}),
    }
    server = start_server(logs / f"server-{dialect}.log", extra_env=env)
    yield OnlineWorld(server, bank, social, env, logs, [bank_process, social_process])
    stop_server(server)
    for process in (bank_process, social_process):
        process.terminate()
        process.wait(timeout=15)


def bank_account(world: OnlineWorld, bank_code: str, card_number: str, fen: int) -> str:
    """An active account at the bank peer holding ``fen``."""
    opened = httpx.post(
        f"{world.bank}/accounts", json={"bank_code": bank_code, "card_number": card_number}
    )
    account = str(opened.json()["account"])
    body = {"bank_code": bank_code, "card_number": card_number, "account": account}
    httpx.post(f"{world.bank}/accounts/activate", json=body).raise_for_status()
    httpx.post(
        f"{world.bank}/control/postings", json={**body, "amount_fen": fen, "kind": "deposit"}
    ).raise_for_status()
    return account


def online_order(amount_fen: int, merchant_order_no: str) -> str:
    """An order of channel online_bank at the contribution merchant (committed)."""
    with db.transaction() as session:
        order = orders_service.create_order(
            session,
            actor=SYSTEM,
            merchant_code=contributions_service.ensure_merchant(session),
            merchant_order_no=merchant_order_no,
            amount_fen=amount_fen,
            category="contribution",
            channel="online_bank",
            subject="网银支付测试",
        )
        return str(order.order_no)


def confirm_on_bank_page(pay_url: str, account: str) -> httpx.Response:
    """What the resident's browser does on the bank's page: open it, confirm."""
    page = httpx.get(pay_url)
    assert page.status_code == 200, page.text
    query = parse_qs(urlsplit(pay_url).query)
    base = pay_url.split("/paypage", 1)[0]
    return httpx.post(
        f"{base}/paypage/confirm",
        data={"req": query["req"][0], "sig": query["sig"][0], "account": account, "password": "pw"},
    )


def until(check: Callable[[], Any], timeout: float = 45) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "nothing happened in time"
        time.sleep(0.2)
