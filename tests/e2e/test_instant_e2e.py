"""Instant card making end to end: the bank, transport and province peers, the platform and
its outbox worker each run as their own process; a bank branch client makes a card, the
worker activates it at the bank and the transport operator, a refusal is compensated, an
off-site card is downloaded and transferred, the service bank changed."""

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

import httpx
import pytest
from peers.bank.branch import Branch, card_id_code
from sqlalchemy import Engine
from tests.integration.issuance.test_activation import _bank, _person, numbers  # noqa: F401
from tests.support import Account, LiveServer, free_port, login, start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("numbers")


@dataclass
class Peer:
    url: str
    process: subprocess.Popen[bytes]


def _start_peer(name: str, log: Path) -> Peer:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", f"peers.{name}", "--port", str(port)],
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return Peer(url, process)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"peer {name} did not start")


@dataclass
class World:
    server: LiveServer
    bank: str
    transport: str
    province: str
    worker: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def world(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    logs = tmp_path_factory.mktemp("instant-e2e")
    peers = {
        name: _start_peer(name, logs / f"{name}.log") for name in ("bank", "transport", "province")
    }
    env = {
        "SSCARD_BANK_URLS": json.dumps({"*": peers["bank"].url}),
        "SSCARD_TRANSPORT_URL": peers["transport"].url,
        "SSCARD_PROVINCE_URL": peers["province"].url,
    }
    server = start_server(logs / f"server-{engine.dialect.name}.log", extra_env=env)
    worker = subprocess.Popen(
        [sys.executable, "-m", "sscard.cli.main", "worker", "--poll", "0.2"],
        env={**os.environ, **env},
        stdout=(logs / "worker.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    yield World(server, peers["bank"].url, peers["transport"].url, peers["province"].url, worker)
    worker.terminate()
    assert worker.wait(timeout=30) == 0, (logs / "worker.log").read_text(errors="replace")
    stop_server(server)
    for peer in peers.values():
        peer.process.terminate()
        peer.process.wait(timeout=15)


def _until(check: Callable[[], Any], timeout: float = 45) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "the worker did not finish in time"
        time.sleep(0.2)


def _lookup(world: World, bank: str, card_number: str) -> dict[str, Any]:
    """The card's account as the bank peer keeps it."""
    body = {"bank_code": bank, "card_number": card_number}
    return dict(httpx.post(f"{world.bank}/control/lookup", json=body).json())


def _settled(http: httpx.Client, number: str) -> dict[str, Any] | None:
    progress = http.get(f"/api/v1/cards/{number}/activation").json()
    return progress if progress["status"] in ("done", "failed") else None


def test_a_branch_makes_a_card_and_the_worker_activates_it_everywhere(
    world: World, make_account: Callable[..., Account]
) -> None:
    bank = _bank()
    token = login(world.server, make_account("bank_agent", institution=bank))
    with world.server.client(token) as http:
        branch = Branch(platform=http, bank_url=world.bank, bank_code=bank)
        made = branch.make_card(_person())
        assert made.activation["status"] == "pending"
        assert set(made.timings) == {"open_account", "make_card", "activate"}
        done = _until(lambda: _settled(http, made.card_number))
        assert done["status"] == "done" and done["card_status"]["code"] == "active"
        card = http.get(f"/api/v1/cards/{made.card_number}").json()
        assert card["bank_account_active"] and card["transport_enabled"]
    looked = _lookup(world, bank, made.card_number)
    assert looked["status"] == "active" and looked["account"] == made.account
    transit = httpx.get(f"{world.transport}/transit/cards/{made.card_number}").json()
    assert transit["status"] == "enabled" and transit["card_id_code"] == made.card_id_code


def test_a_transport_refusal_is_compensated_and_a_clerk_activates_again(
    world: World, make_account: Callable[..., Account]
) -> None:
    bank = _bank()
    clerk = world.server.client(login(world.server, make_account("clerk")))
    with world.server.client(
        login(world.server, make_account("bank_agent", institution=bank))
    ) as http:
        branch = Branch(platform=http, bank_url=world.bank, bank_code=bank)
        opened = http.post(
            "/api/v1/instant/accounts",
            json={"id_number": _person()},
            headers={"Idempotency-Key": "e2e-open-" + bank},
        ).json()
        number = opened["card_number"]
        fault = {"operation": "enable", "mode": "refuse", "card_numbers": [number]}
        httpx.put(f"{world.transport}/control/faults", json=fault).raise_for_status()
        opening = {"bank_code": bank, "card_number": number}
        account = httpx.post(f"{world.bank}/accounts", json=opening).json()["account"]
        body = {
            "card_id_code": card_id_code("370800", int(time.time() * 1000) % 10**12),
            "atr": "3B6C00001122334455",
            "bank_account": account,
        }
        assert (
            branch.call(
                "make_card", f"/api/v1/instant/cards/{number}/made", body, f"e2e-made-{number}", {}
            )["status"]["code"]
            == "issued"
        )
        branch.call(
            "activate", f"/api/v1/instant/cards/{number}/activate", {}, f"e2e-activate-{number}", {}
        )
        failed = _until(lambda: _settled(http, number))
    assert failed["status"] == "failed" and "交通功能开通失败" in failed["reason"]
    _until(
        lambda: (
            clerk.get(f"/api/v1/cards/{number}/activation").json()["steps"][0]["status"]
            == "compensated"
        )
    )
    assert _lookup(world, bank, number)["status"] == "inactive"
    httpx.delete(f"{world.transport}/control/faults")
    again = clerk.post(f"/api/v1/cards/{number}/activate")
    assert again.status_code == 202 and again.json()["status"] == "pending"
    assert _until(lambda: _settled(clerk, number))["status"] == "done"
    actions = [e["action_name"] for e in clerk.get(f"/api/v1/cards/{number}").json()["timeline"]]
    assert "一站式启用失败" in actions and "一站式启用已撤销" in actions and actions[-1] == "启用"


def test_an_off_site_card_is_downloaded_shown_and_transferred_here(
    world: World, make_account: Callable[..., Account]
) -> None:
    holder = _person()
    number = "R" + str(int(time.time() * 1000))[-8:]
    httpx.post(
        f"{world.province}/province/cards",
        json={
            "card_number": number,
            "card_id_code": card_id_code("370200", int(number[1:])),
            "id_number": holder,
            "name": "青岛持卡人",
            "region_code": "370200",
            "bank_code": "BANK-QD",
        },
    ).raise_for_status()
    with world.server.client(login(world.server, make_account("clerk"))) as clerk:
        downloaded = clerk.post("/api/v1/cards/offsite", json={"id_number": holder})
        assert downloaded.status_code == 201, downloaded.text
        assert (
            downloaded.json()["is_offsite"]
            and downloaded.json()["managing_region_code"] == "370200"
        )
        info = clerk.get(f"/api/v1/persons/{holder}/card-info").json()
        assert info["provincial_error"] is None
        assert [(c["card_number"], c["local"]) for c in info["provincial"]] == [(number, True)]
        moved = clerk.post(f"/api/v1/cards/{number}/transfer", json={"to_region_code": "370800"})
        assert moved.status_code == 200 and moved.json()["managing_region_code"] == "370800"
        _until(
            lambda: (
                clerk.get(f"/api/v1/cards/{number}").json()["timeline"][-1]["action"]
                == "province_informed"
            )
        )
    record = httpx.get(f"{world.province}/province/cards/{number}").json()
    assert record["managing_region_code"] == "370800"


def test_the_service_bank_changes_and_the_balance_comes_from_the_new_bank(
    world: World, make_account: Callable[..., Account]
) -> None:
    old, new = _bank(), _bank()
    with world.server.client(
        login(world.server, make_account("bank_agent", institution=old))
    ) as http:
        made = Branch(platform=http, bank_url=world.bank, bank_code=old).make_card(_person())
        _until(lambda: _settled(http, made.card_number))
    with world.server.client(login(world.server, make_account("clerk"))) as clerk:
        changed = clerk.post(
            f"/api/v1/cards/{made.card_number}/bank-change",
            json={"bank_code": new, "note": "持卡人申请"},
        )
        assert changed.status_code == 200 and changed.json()["bank_code"] == new
        assert clerk.get(f"/api/v1/cards/{made.card_number}/bank/balance").status_code == 409
        card = _until(
            lambda: (
                (c := clerk.get(f"/api/v1/cards/{made.card_number}").json())["bank_account"] and c
            )
        )
        looked = _lookup(world, new, made.card_number)
        httpx.post(
            f"{world.bank}/control/postings",
            json={
                "bank_code": new,
                "card_number": made.card_number,
                "account": looked["account"],
                "amount_fen": 12345,
                "kind": "benefit",
                "description": "待遇发放",
            },
        ).raise_for_status()
        balance = clerk.get(f"/api/v1/cards/{made.card_number}/bank/balance").json()
        assert balance["balance_fen"] == 12345 and balance["bank_account"] == card["bank_account"]
        items = clerk.get(f"/api/v1/cards/{made.card_number}/bank/transactions").json()
        assert items[0]["description"] == "待遇发放"
        assert looked["account"] not in json.dumps(balance)
