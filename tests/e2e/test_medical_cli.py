"""``sscard payments medical`` as an operator scripts it: the command is its own process on
the suite's database and reaches the medical insurance peer, itself a process."""

from __future__ import annotations

import os
import re

import httpx
from tests.e2e.test_cli import sscard
from tests.integration.payments.medical_support import World, holder, medical_peer, world

__all__ = ["medical_peer", "world"]


def test_an_operator_pre_settles_settles_shows_refunds_and_manages_a_chronic_qualification(
    medical_peer: str, world: World
) -> None:
    env = {**os.environ, "SSCARD_MEDICAL_URL": medical_peer, "COLUMNS": "200"}
    who = holder(world)
    body = {"id_number": who.id_number, "insurance_type": "employee", "personal_balance_fen": 10**6}
    assert httpx.post(f"{medical_peer}/control/persons", json=body).status_code == 201
    bill = [
        "--merchant", world.pharmacy, "--card", who.card_number, "--visit", "pharmacy",
        "--item", "D001,二甲双胍片,drug_a,300.00,E11",
    ]  # fmt: skip

    trial = sscard("payments", "medical", "pre-settle", *bill, env=env)
    assert trial.returncode == 0, trial.stderr
    assert "职工医保" in trial.stdout and "90.00" in trial.stdout  # (300 - 200) x 90 %

    added = sscard(
        "payments", "medical", "chronic", "add", "--id-number", who.id_number,
        "--disease-code", "E11", "--disease-name", "糖尿病", "--from", "2026-01-01",
        env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    number = re.search(r"CQ\d{16}", added.stdout)
    assert number is not None and who.id_number not in added.stdout

    settled = sscard("payments", "medical", "settle", *bill, env=env)
    assert settled.returncode == 0, settled.stderr
    assert (
        "已结算" in settled.stdout and "300.00" in settled.stdout and "北京时间" in settled.stdout
    )
    found = re.search(r"M\d{19}", settled.stdout)
    assert found is not None
    shown = sscard("payments", "medical", "show", found.group(0), env=env)
    assert "三方分账" in shown.stdout and who.id_number not in shown.stdout

    refunded = sscard("payments", "medical", "refund", found.group(0), "--reason", "退药", env=env)
    assert refunded.returncode == 0 and "已退费" in refunded.stdout
    again = sscard("payments", "medical", "refund", found.group(0), "--reason", "退药", env=env)
    assert again.returncode == 1 and "不能退费" in again.stderr

    listed = sscard("payments", "medical", "chronic", "list", env=env).stdout
    assert number.group(0) in listed
    revoked = sscard("payments", "medical", "chronic", "revoke", number.group(0), env=env)
    assert revoked.returncode == 0 and "已撤销" in revoked.stdout

    bad = sscard("payments", "medical", "settle", *bill[:-1], "D001,药,drug_x,1.00", env=env)
    assert bad.returncode == 1 and "item_class" in bad.stderr
