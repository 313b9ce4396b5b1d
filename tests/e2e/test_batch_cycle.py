"""Batch card making end to end: the platform, the province, the bank and the vendor as four
processes. Thirty applications go through the CLI (export, encrypted send and fetch,
import), some fail at the bank and some at the vendor; a clerk resubmits one failure and
closes another through the API, and the second batch, run through the API, makes the
resubmitted card with its old card number."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select
from tests.support import (
    Account,
    LiveServer,
    citizen_id,
    free_port,
    login,
    person_body,
    start_server,
    stop_server,
)

from sscard import db
from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType
from sscard.iam.schemas import InstitutionCreate
from sscard.issuance.batches.models import Batch
from sscard.issuance.cards.models import Card
from sscard.registry import fakes
from sscard.registry.photos import portraits
from sscard.registry.units import service as registry_units
from sscard.registry.units.schemas import EmployerCreate

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Peer:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def _start_peer(name: str, folder: Path, env: dict[str, str]) -> Peer:
    port = free_port()
    log = folder / f"{name}.log"
    data = folder / name
    data.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", f"peers.{name}", "--port", str(port)],
        env={**os.environ, **env, "PEER_DATA_DIR": str(data)},
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited early:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return Peer(name, url, process, log)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{name} did not start")


def _stop(peer: Peer) -> None:
    peer.process.terminate()
    try:
        peer.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        peer.process.kill()


@dataclass
class World:
    region: str
    env: dict[str, str]
    server: LiveServer
    folder: Path
    bank_code: str
    employer_id: int

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "sscard.cli.main", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            timeout=300,
        )
        output = done.stdout.decode() + done.stderr.decode()
        assert done.returncode == 0, f"sscard {' '.join(args)} failed:\n{output}"
        return done.stdout.decode()


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Iterator[World]:
    region = f"8{secrets.randbelow(10**5):05d}"
    trust = tmp_path / "trust"
    key_file = tmp_path / "province-transfer.key"
    common = {"PEER_TRUST_DIR": str(trust), "PEER_FAIL_ONCE": "1"}
    bank = _start_peer("bank", tmp_path, {**common, "PEER_BANK_FAIL_DIGITS": "3"})
    vendor = _start_peer(
        "vendor", tmp_path, {**common, "PEER_VENDOR_FAIL_DIGITS": "5", "PEER_VENDOR_BOX_SIZE": "10"}
    )
    province = _start_peer(
        "province",
        tmp_path,
        {
            **common,
            "PEER_BANK_URL": bank.url,
            "PEER_VENDOR_URL": vendor.url,
            "PEER_TRANSFER_KEY_FILE": str(key_file),
        },
    )
    env = {
        **os.environ,
        "SSCARD_REGION_CODE": region,
        "SSCARD_PROVINCE_URL": province.url,
        "SSCARD_DATA_DIR": str(tmp_path / "var"),
    }
    server = start_server(tmp_path / "server.log", extra_env=env)
    with db.transaction() as session:
        bank_code = f"BK{secrets.token_hex(3).upper()}"
        iam_service.create_institution(
            session,
            data=InstitutionCreate(
                code=bank_code, name="济宁合作银行", type=InstitutionType.bank, region_code="370800"
            ),
        )
        fake = fakes.employers(secrets.randbelow(10**9), "370811", 1)[0]
        employer_id = registry_units.create_employer(
            session,
            data=EmployerCreate(
                credit_code=fake.credit_code, name=fake.name, region_code=fake.region_code
            ),
        ).id
    try:
        yield World(region, env, server, tmp_path, bank_code, employer_id)
    finally:
        stop_server(server)
        for peer in (province, vendor, bank):
            _stop(peer)


def _applicants(digits: str, count: int) -> list[str]:
    found: list[str] = []
    while len(found) < count:
        number = citizen_id("370811")
        if number[-1] in digits:
            found.append(number)
    return found


def _apply(http: httpx.Client, world: World, numbers: list[str]) -> None:
    for index, number in enumerate(numbers):
        body = person_body(number, employer_id=world.employer_id if index % 2 else None)
        assert http.post("/api/v1/persons", json=body).status_code == 201
        photo = {"photo": ("p.jpg", portraits.demo_portrait(index), "image/jpeg")}
        assert http.put(f"/api/v1/persons/{number}/photo", files=photo).status_code == 200
        made = http.post(
            "/api/v1/cards/applications", json={"id_number": number, "bank_code": world.bank_code}
        )
        assert made.status_code == 201, made.text


def test_a_batch_goes_through_the_peers_and_a_failure_is_resubmitted_into_the_next(
    world: World, make_account: Callable[..., Account]
) -> None:
    bank_fails, vendor_fails = _applicants("3", 3), _applicants("5", 3)
    others = _applicants("0124678X", 24)
    clerk = login(world.server, make_account("clerk"))
    manager = login(world.server, make_account("card_manager"))
    with world.server.client(clerk) as http:
        _apply(http, world, bank_fails + vendor_fails + others)

    province_pem = httpx.get(f"{world.env['SSCARD_PROVINCE_URL']}/keys/province.pem").text
    (world.folder / "trust").mkdir(exist_ok=True)
    (world.folder / "trust" / "province.pem").write_text(province_pem)
    world.cli(
        "issuance",
        "ranges",
        "add",
        world.region,
        "E" + secrets.token_hex(1).upper()[:1],
        "1",
        "99999",
    )
    world.cli("batch", "keys", "--dir", str(world.folder / "trust"))
    world.cli(
        "batch", "transfer-key", "province", "--out", str(world.folder / "province-transfer.key")
    )

    exported = json.loads(world.cli("batch", "export", "--json", "--chunk", "8"))
    batch_no = exported["batch"]["batch_no"]
    assert exported["batch"]["card_count"] == 30 and exported["unresolved_codes"] == 1
    world.cli("batch", "send", batch_no, "--encrypt")
    world.cli("batch", "fetch", batch_no, "--wait", "120", "--every", "0.3", "--encrypt")
    imported = json.loads(world.cli("batch", "import-result", "--batch", batch_no, "--json"))
    assert (imported["made"], imported["failed"], imported["rejected"]) == (24, 6, 0)
    again = json.loads(world.cli("batch", "import-result", "--batch", batch_no, "--json"))
    assert again["already_imported"] is True

    listed = json.loads(world.cli("batch", "failures", "list", "--batch", batch_no, "--json"))
    assert len(listed) == 6 and all("*" in f["holder_id_number"] for f in listed)
    queued = json.loads(world.cli("mapping", "unresolved", "--kind", "employer", "--json"))
    assert any(q["direction"] == "out" and q["source"] == f"batch:{batch_no}" for q in queued)

    with world.server.client(clerk) as http:
        refused = http.post("/api/v1/batches", json={})
        assert refused.status_code == 403
    with world.server.client(manager) as http:
        assert http.get(f"/api/v1/batches/{batch_no}/rejects").json() == []
        package = http.get(f"/api/v1/batches/{batch_no}/package")
        assert package.status_code == 200 and package.content[:2] == b"PK"
        mapping = {
            "system": "province",
            "kind": "community",
            "code": "370811001001",
            "external_code": "SQ-001",
            "external_name": "古槐社区",
        }
        assert http.put("/api/v1/entity-mappings", json=mapping).status_code == 200
        found = http.get("/api/v1/entity-mappings", params={"code": "SQ-001"}).json()
        assert [m["code"] for m in found] == ["370811001001"]
        gone = http.delete("/api/v1/entity-mappings/province/community/370811001001")
        assert gone.status_code == 204
        batch = http.get(f"/api/v1/batches/{batch_no}").json()
        assert batch["progress"] == {"made": 24, "failed": 6}
        failures = http.get("/api/v1/failures", params={"batch_no": batch_no}).json()
        assert sorted(f["stage"] for f in failures) == ["bank"] * 3 + ["vendor"] * 3
        assert all(bank_fails[0] not in json.dumps(f) for f in failures)
        by_employer = http.get("/api/v1/failures", params={"employer_id": world.employer_id})
        assert 0 < len(by_employer.json()) < 6
        bank_failure = next(f for f in failures if f["stage"] == "bank")
        vendor_failure = next(f for f in failures if f["stage"] == "vendor")
        resubmitted = http.post(
            f"/api/v1/failures/{bank_failure['id']}/resubmit",
            json={"note": "已核实身份信息，重新报送"},
        )
        assert resubmitted.status_code == 200 and resubmitted.json()["status"] == "resubmitted"
        closed = http.post(
            f"/api/v1/failures/{vendor_failure['id']}/resolve",
            json={"note": "本人申请改为即时制卡"},
        )
        assert closed.json()["status"] == "closed"
        twice = http.post(f"/api/v1/failures/{bank_failure['id']}/resubmit", json={"note": "再"})
        assert twice.status_code == 422
        queued = http.get("/api/v1/unresolved-codes", params={"kind": "employer"}).json()
        inward = [q for q in queued if q["source"] == f"result:{batch_no}"]
        assert len(inward) == 1 and inward[0]["direction"] == "in" and inward[0]["suggestion"]
        answered = http.post(f"/api/v1/unresolved-codes/{inward[0]['id']}/resolve", json={})
        assert answered.status_code == 200 and answered.json()["status"] == "resolved"

        second = http.post("/api/v1/batches", json={})
        assert second.status_code == 201, second.text
        second_no = second.json()["batch"]["batch_no"]
        assert second.json()["batch"]["card_count"] == 1
        assert http.post(f"/api/v1/batches/{second_no}/send", json={}).status_code == 200
        for _ in range(200):
            fetched = http.post(f"/api/v1/batches/{second_no}/fetch", json={}).json()
            if fetched["ready"]:
                break
            time.sleep(0.3)
        assert fetched["ready"], fetched
        result = http.post(f"/api/v1/batches/{second_no}/result")
        assert result.status_code == 200, result.text
        assert (result.json()["made"], result.json()["failed"]) == (1, 0)
        assert http.get(f"/api/v1/batches/{second_no}").json()["progress"] == {"made": 1}
        listed = http.get("/api/v1/batches").json()
        assert {b["batch_no"] for b in listed} >= {batch_no, second_no}
    with db.transaction() as session:
        card = session.scalars(
            select(Card).where(Card.card_number == bank_failure["card_number"])
        ).one()
        assert card.status == "made" and card.batch_id is not None
        assert session.get(Batch, card.batch_id).batch_no == second_no  # type: ignore[union-attr]
