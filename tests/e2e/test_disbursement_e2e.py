"""Benefit disbursement end to end: the bank peer and the platform each run as their own
process. A clerk uploads a pension file over HTTP (a malformed one is refused whole), sends
it, fetches the bank's return; the pension shows on the card's bank account; a cancelled
card fails, the card is replaced, and the worker's retry step pays the new card. The
invariant holds at every step and ``sscard ledger verify`` stays clean."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from tests.integration.issuance.test_activation import CLERK, _bank, _person, numbers  # noqa: F401
from tests.integration.payments.disbursement_world import active_card, made_card
from tests.support import Account, LiveServer, free_port, login, start_server, stop_server

from sscard import db
from sscard.crypto import pem
from sscard.crypto import service as crypto_service
from sscard.exchange.files import service as exchange_files
from sscard.issuance.cards import application_service
from sscard.issuance.cards import service as issuance_service
from sscard.issuance.cards.schemas import ReplacementIn
from sscard.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("numbers")
HEADER = "社会保障号码,姓名,金额,待遇类型,期别\n"


@dataclass
class World:
    server: LiveServer
    bank_url: str
    env: dict[str, str]


def _start_bank(peer_dir: Path, log: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    env = {
        **os.environ,
        "PEER_DATA_DIR": str(peer_dir / "bank"),
        "PEER_TRUST_DIR": str(peer_dir / "trust"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "peers.bank", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return url, process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the bank peer did not start")


def _exchange_keys(trust: Path) -> None:
    """The city's public key to the bank's trust folder, the bank's into the key store."""
    with db.transaction() as session:
        city = exchange_files.batch_sign_key_pem(session)
        (trust / f"{get_settings().region_code}.pem").write_text(city, encoding="ascii")
        crypto_service.import_public_key(
            session,
            name="bank-exchange",
            public_key=pem.load_public_key((trust / "bank.pem").read_bytes()),
        )


@pytest.fixture(scope="module")
def world(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    logs = tmp_path_factory.mktemp("disbursement-e2e")
    bank_url, bank = _start_bank(logs / "peers", logs / "bank.log")
    _exchange_keys(logs / "peers" / "trust")
    env = {"SSCARD_BANK_URLS": json.dumps({"*": bank_url})}
    server = start_server(logs / f"server-{engine.dialect.name}.log", extra_env=env)
    yield World(server, bank_url, {**os.environ, **env})
    stop_server(server)
    bank.terminate()
    bank.wait(timeout=15)


def _card(bank: str) -> tuple[str, str, str]:
    """A person with an active card: (ID number, card id, card number)."""
    holder = _person()
    with db.transaction() as session:
        card = active_card(session, CLERK, bank, holder)
        return holder, card.id, card.card_number or ""


def _balance(world: World, bank: str, card_id: str) -> int:
    with db.transaction() as session:
        card = issuance_service.card_by_id(session, card_id=card_id)
        from sscard.issuance.cards import making_service

        account = making_service.bank_account(session, card=card)
        number = card.card_number
    body = {"bank_code": bank, "card_number": number, "account": account}
    answer = httpx.post(f"{world.bank_url}/accounts/balance", json=body)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["balance_fen"])


def _upload(http: httpx.Client, rows: list[str], name: str = "pension.csv") -> httpx.Response:
    body = (HEADER + "".join(r + "\n" for r in rows)).encode()
    return http.post("/api/v1/payments/disbursements", files={"file": (name, body, "text/csv")})


def _balanced(http: httpx.Client) -> dict[str, Any]:
    report = http.get("/api/v1/payments/disbursements/invariant").json()
    assert report["ok"], report
    assert report["out_fen"] == report["confirmed_fen"] + report["suspense_fen"]
    return dict(report)


def _sscard(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "sscard.cli.main", *args],
        env=world.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_pension_reaches_the_card_and_a_cancelled_card_is_paid_after_its_replacement(
    world: World, make_account: Callable[..., Account]
) -> None:
    bank = _bank()
    paid_holder, paid_card, _ = _card(bank)
    moved_holder, old_card, old_number = _card(bank)
    http = world.server.client(login(world.server, make_account("clerk")))
    before = _balanced(http)

    # A malformed file: refused whole, each bad row named, nothing posted.
    bad = _upload(http, [f"{paid_holder},测试人员,1850.00,养老金,202612", "123,某人,abc,工资,2026"])
    assert bad.status_code == 422, bad.text
    fields = {f["field"]: f["reason"] for f in bad.json()["fields"]}
    assert set(fields) == {"第2行"} and "社会保障号码" in fields["第2行"]
    assert _balanced(http) == before

    created = _upload(
        http,
        [
            f"{paid_holder},测试人员,1850.00,养老金,202612",
            f"{moved_holder},测试人员,2100.50,养老金,202612",
        ],
    )
    assert created.status_code == 201, created.text
    batch_no = created.json()["batch_no"]
    assert created.json()["totals"]["total_fen"] == 395050

    planted = {"card_numbers": [old_number], "code": "card_cancelled"}
    assert httpx.put(f"{world.bank_url}/control/disbursement/failures", json=planted).is_success
    sent = http.post(f"/api/v1/payments/disbursements/{batch_no}/send")
    assert sent.status_code == 200 and sent.json()["files_sent"] == 1, sent.text
    in_flight = _balanced(http)
    assert in_flight["in_flight_fen"] - before["in_flight_fen"] == 395050
    fetched = http.post(f"/api/v1/payments/disbursements/{batch_no}/fetch").json()
    assert (fetched["lines_paid"], fetched["lines_failed"]) == (1, 1)
    assert _balance(world, bank, paid_card) == 185000
    after = _balanced(http)
    assert after["suspense_fen"] - before["suspense_fen"] == 210050

    queue = http.get("/api/v1/payments/disbursements/failures").json()
    mine = [x for x in queue if x["batch_no"] == batch_no]
    assert [(x["fail_reason"], x["status"]) for x in mine] == [("卡已注销", "failed")]
    assert "*" in mine[0]["id_number"] and moved_holder not in json.dumps(queue)

    with db.transaction() as session:
        new = application_service.replace(
            session, card_ref=old_card, data=ReplacementIn(reason="lost"), actor=CLERK
        )
        new = made_card(session, CLERK, new)
        new_card = new.id
    worked = _sscard(world, "worker", "--once")
    assert worked.returncode == 0, worked.stderr
    assert "payments-disbursement-retry 1" in " ".join(worked.stdout.split())  # lines may wrap
    again = _sscard(world, "payments", "disbursement", "retry")
    assert again.returncode == 0, again.stderr
    assert "重新发放 0 笔" in again.stdout
    assert _balance(world, bank, new_card) == 210050
    final = _balanced(http)
    assert final["suspense_fen"] == before["suspense_fen"]

    batch = http.get(f"/api/v1/payments/disbursements/{batch_no}").json()
    assert batch["status"] == "closed" and batch["totals"]["paid_fen"] == 395050
    lines = http.get(f"/api/v1/payments/disbursements/{batch_no}/lines?status=all").json()
    assert sorted(x["status"] for x in lines) == ["paid", "paid", "retried"]
    assert (
        http.get(f"/api/v1/payments/disbursements/{batch_no}/lines?status=bogus").status_code == 422
    )
    shown = _sscard(world, "payments", "disbursement", "show", batch_no)
    assert shown.returncode == 0 and "已办结" in shown.stdout and "北京时间" in shown.stdout
    assert _sscard(world, "payments", "disbursement", "check").returncode == 0
    verified = _sscard(world, "ledger", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    httpx.delete(f"{world.bank_url}/control/disbursement/failures")


def test_an_auditor_neither_reads_nor_sends_batches_and_an_unknown_batch_is_not_found(
    world: World, make_account: Callable[..., Account]
) -> None:
    auditor = world.server.client(login(world.server, make_account("auditor")))
    assert auditor.post("/api/v1/payments/disbursements/D202612040001/send").status_code == 403
    assert auditor.get("/api/v1/payments/disbursements").status_code == 403
    clerk = world.server.client(login(world.server, make_account("clerk")))
    missing = clerk.get("/api/v1/payments/disbursements/D000000000000")
    assert missing.status_code == 404 and missing.json()["error"] == "disbursement_batch_not_found"
    refused = clerk.post(
        "/api/v1/payments/disbursements/lines/999999999/resolve", json={"note": ""}
    )
    assert refused.status_code == 422 and refused.json()["fields"][0]["field"].endswith("note")


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["社会保障号码", "姓名", "金额", "待遇类型", "期别"])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_an_operator_runs_a_subsidy_batch_from_an_excel_file_with_the_command_line(
    world: World, tmp_path: Path
) -> None:
    bank = _bank()
    holder, card_id, _ = _card(bank)
    bad = _xlsx(tmp_path / "bad.xlsx", [[holder, "测试人员", 0, "补贴", 202612]])
    refused = _sscard(world, "payments", "disbursement", "import", str(bad))
    assert refused.returncode == 1
    assert "第1行" in refused.stdout and "金额应大于 0" in refused.stdout
    assert "整个文件未导入" in refused.stderr

    good = _xlsx(tmp_path / "补贴202612.xlsx", [[holder, "测试人员", 300.5, "补贴", 202612]])
    imported = _sscard(world, "payments", "disbursement", "import", str(good))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    batch_no = re.findall(r"D\d{12}", imported.stdout)[0]
    assert "补贴 202612" in imported.stdout and "300.50 元" in imported.stdout
    sent = _sscard(world, "payments", "disbursement", "send", batch_no)
    assert sent.returncode == 0 and "发送文件 1 个" in sent.stdout, sent.stderr
    fetched = _sscard(world, "payments", "disbursement", "fetch", batch_no)
    assert fetched.returncode == 0 and "到账 1 笔" in fetched.stdout, fetched.stderr
    assert _balance(world, bank, card_id) == 30050
    shown = _sscard(world, "payments", "disbursement", "show", batch_no, "--status", "paid")
    assert "已办结" in shown.stdout and "已到账" in shown.stdout and holder not in shown.stdout
    assert _sscard(world, "payments", "disbursement", "check").returncode == 0


def test_a_return_file_received_by_hand_is_uploaded_and_applied_once(
    world: World, make_account: Callable[..., Account]
) -> None:
    bank = _bank()
    holder, card_id, _ = _card(bank)
    http = world.server.client(login(world.server, make_account("clerk")))
    created = _upload(http, [f"{holder},测试人员,512.00,失业金,202612"], "unemployment.csv")
    batch_no = created.json()["batch_no"]
    assert http.post(f"/api/v1/payments/disbursements/{batch_no}/send").json()["files_sent"] == 1
    (sent,) = http.get(f"/api/v1/payments/disbursements/{batch_no}/files").json()
    returned = httpx.get(f"{world.bank_url}/disbursement/files/{sent['file_no']}/return")
    assert returned.status_code == 200

    wrong = http.post(
        f"/api/v1/payments/disbursements/{batch_no}/returns",
        data={"file_no": sent["file_no"]},
        files={"file": ("return.zip", returned.content[:-30], "application/zip")},
    )
    assert wrong.status_code == 422 and wrong.json()["error"] == "package_rejected", wrong.text
    for _ in range(2):
        applied = http.post(
            f"/api/v1/payments/disbursements/{batch_no}/returns",
            data={"file_no": sent["file_no"]},
            files={"file": ("return.zip", returned.content, "application/zip")},
        )
        assert applied.status_code == 200, applied.text
    assert _balance(world, bank, card_id) == 51200
    batch = http.get(f"/api/v1/payments/disbursements/{batch_no}").json()
    assert batch["status"] == "closed" and batch["totals"]["paid_fen"] == 51200
    _balanced(http)
