"""Clearing and reconciliation from the command line (real processes on a database of their
own) and over HTTP (the live server): days cleared once, files imported or refused naming
the line, differences resolved; bad input answered 4xx in words, never 5xx."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from tests.e2e.test_cli import env, sscard  # noqa: F401 - the fixture is used by name
from tests.support import Account, LiveServer, login

from sscard.db import utcnow
from sscard.payments.clearing import rules
from sscard.payments.recon import dailyfile
from sscard.payments.recon.dailyfile import Header, Record


def _day() -> date:
    return rules.clearing_day(utcnow(), rules.parse_cutoff("23:00"))


def _file(bank: str, records: list[Record]) -> bytes:
    return dailyfile.write(Header("bank", bank, _day()), records)


def test_an_operator_clears_a_day_once_and_reconciles_a_bank_file_from_the_command_line(
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    assert sscard("db", "upgrade", env=env).returncode == 0
    yesterday = f"{_day() - timedelta(days=1):%Y-%m-%d}"
    first = sscard("payments", "clearing", "run", "--day", yesterday, env=env)
    assert first.returncode == 0, first.stderr
    assert f"清算日 {yesterday}" in first.stdout and "结算文件 STL_" in first.stdout
    again = sscard("payments", "clearing", "run", "--day", yesterday, env=env)
    assert again.stdout == first.stdout
    later = f"{_day() + timedelta(days=1):%Y-%m-%d}"
    early = sscard("payments", "clearing", "run", "--day", later, env=env)
    assert early.returncode == 1 and "尚未日切" in early.stderr

    at = dailyfile.utc_text(utcnow())
    good = _file("BCLI", [Record("P20261204000000000001", "debit", 4_200, "done", at)])
    broken = tmp_path / "broken.txt"
    broken.write_bytes(good[:-20])
    refused = sscard("payments", "recon", "import", str(broken), env=env)
    assert refused.returncode == 1 and "第 3 行" in refused.stderr
    whole = tmp_path / "bank.txt"
    whole.write_bytes(good)
    imported = sscard("payments", "recon", "import", str(whole), env=env)
    assert imported.returncode == 0 and "差错 1 笔" in imported.stdout
    listed = sscard("payments", "recon", "diffs", "--kind", "theirs_only", env=env).stdout
    assert "P20261204000000000001" in listed and "42.00" in listed and "共 1 笔差错" in listed
    diff_id = next(
        line.split()[1] for line in listed.splitlines() if "P2026120400000000000" in line
    )
    done = sscard(
        "payments", "recon", "resolve", diff_id, "--action", "accept", "--reason", "次日到账",
        env=env,
    )  # fmt: skip
    assert done.returncode == 0 and "已处理" in done.stdout, done.stderr
    twice = sscard(
        "payments", "recon", "resolve", diff_id, "--action", "accept", "--reason", "再次处理",
        env=env,
    )  # fmt: skip
    assert twice.returncode == 1 and "不能再处理" in twice.stderr


def test_bad_input_to_the_clearing_and_reconciliation_api_is_answered_in_words(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    client = live_server.client(login(live_server, make_account("admin")))
    bank = f"B{secrets.token_hex(3).upper()}"
    at = dailyfile.utc_text(utcnow())
    data = _file(bank, [Record("P20261204000000000002", "debit", 100, "done", at)])
    cut = client.post(
        "/api/v1/payments/recon/imports",
        content=data[:-10],
        headers={"Content-Type": "text/plain"},
    )
    assert cut.status_code == 422 and cut.json()["fields"][0]["field"] == "file"
    assert "第 3 行" in cut.json()["detail"]
    future = f"{_day() + timedelta(days=2):%Y-%m-%d}"
    early = client.post("/api/v1/payments/clearing/run", json={"day": future})
    assert early.status_code == 409 and "尚未日切" in early.json()["detail"]
    assert client.post("/api/v1/payments/clearing/run", json={"day": "12/04"}).status_code == 422
    assert client.get("/api/v1/payments/settlement/days/2026-13-01").status_code == 422
    assert client.get("/api/v1/payments/settlement/days/1999-01-01").status_code == 404
    assert client.get("/api/v1/payments/recon/differences?kind=other").status_code == 422
    missing = client.post(
        "/api/v1/payments/recon/differences/999999999/resolve",
        json={"action": "accept", "reason": "核对"},
    )
    assert missing.status_code == 404 and "不存在" in missing.json()["detail"]
    short = client.post(
        "/api/v1/payments/recon/differences/1/resolve", json={"action": "adjust", "reason": ""}
    )
    assert short.status_code == 422
