"""``sscard cards ...`` as an operator scripts it: each command a real process on the test
database, one line of output (or JSON), a non-zero exit with a clear message on refusal."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from peers.bank.branch import card_id_code
from sqlalchemy import Engine
from tests.e2e.test_instant_e2e import Peer, _start_peer
from tests.integration.issuance.test_activation import (  # noqa: F401
    _bank,
    _card,
    _issued,
    _person,
    numbers,
)

from sscard.db import CHINA_TZ

pytestmark = pytest.mark.usefixtures("numbers")


@pytest.fixture(scope="module")
def province(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    peer = _start_peer("province", tmp_path_factory.mktemp("cli") / "province.log")
    yield peer
    peer.process.terminate()
    peer.process.wait(timeout=15)


def cards(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sscard.cli.main", "cards", *args],
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )


def ok(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    done = cards(*args, stdin=stdin, env=env)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def test_an_operator_scripts_the_life_of_a_card() -> None:
    number = _card(_issued(_bank())).card_number or ""
    assert "已发放" in ok("show", number)
    assert "启用：已启用（done）" in ok("activate", number)
    assert "临时挂失" in ok("loss", number, "--temporary", "--note", "电话挂失")
    assert "正常 (active)" in ok("unlock", number, "--temporary")
    lost = json.loads(ok("loss", number, "--json"))
    assert lost["status"]["code"] == "lost" and lost["card_number"] == number

    refused = cards("restore", number)
    assert refused.returncode == 1 and "不能注销还原" in refused.stderr

    assert "已注销" in ok("cancel", number, "--reason", "误操作测试")
    assert "正式挂失 (lost)" in ok("restore", number)
    replaced = ok("replace", number, "--reason", "lost", "--mode", "instant")
    assert replaced.startswith("新卡：") and "已申请" in replaced
    assert ok("lapse").startswith("临时挂失到期解除 ")
    assert "一站式启用" in ok("show", number)


def test_bank_change_transfer_and_the_provincial_record_from_the_command_line() -> None:
    number = _card(_issued(_bank())).card_number or ""
    ok("activate", number)
    new_bank = _bank()
    assert f"服务银行已换为 {new_bank}" in ok("bank-change", number, "--bank", new_bank)
    second = cards("bank-change", number, "--bank", _bank())
    assert second.returncode == 1 and "尚未完成" in second.stderr
    assert "370100" in ok("transfer", number, "--to", "370100", "--json")
    refused = cards("province-cancel", number, "--reason", "测试注销")
    assert refused.returncode == 1 and "370100" in refused.stderr

    other = _card(_issued(_bank())).card_number or ""
    assert "请先注销本地卡片" in cards("province-cancel", other, "--reason", "测试").stderr
    ok("cancel", other, "--reason", "重复制卡")
    assert "省级卡信息已注销：" in ok("province-cancel", other, "--reason", "重复制卡")
    assert "省级卡信息已注销" in cards("restore", other).stderr


def test_an_off_site_card_is_downloaded_with_the_id_number_on_standard_input(
    province: Peer,
) -> None:
    holder = _person()
    number = "C" + str(time.time_ns())[-8:]
    httpx.post(
        f"{province.url}/province/cards",
        json={
            "card_number": number,
            "card_id_code": card_id_code("371300", int(number[1:])),
            "id_number": holder,
            "name": "临沂持卡人",
            "region_code": "371300",
            "bank_code": "BANK-LY",
        },
    ).raise_for_status()
    env = {"SSCARD_PROVINCE_URL": province.url}
    downloaded = ok("download-offsite", "-", stdin=holder + "\n", env=env)
    assert downloaded.startswith(f"已下载：{number}") and holder not in downloaded
    missing = cards("download-offsite", "-", stdin=_person() + "\n", env=env)
    assert missing.returncode == 1 and "省卡管中没有" in missing.stderr


def test_a_card_timeline_is_printed_in_beijing_time_and_labelled() -> None:
    number = _card(_issued(_bank())).card_number or ""
    shown = ok("show", number)
    assert "时间（北京时间）" in shown and "UTC" not in shown
    printed = re.findall(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", shown)
    assert printed
    now = datetime.now(CHINA_TZ).replace(tzinfo=None)
    for value in printed:
        assert abs(datetime.fromisoformat(value) - now) < timedelta(minutes=10)


def test_an_operator_writes_the_counter_receipt_of_a_loss_report_to_a_pdf(tmp_path: Path) -> None:
    from io import BytesIO

    import pypdf

    number = _card(_issued(_bank())).card_number or ""
    ok("activate", number)
    lost = json.loads(ok("loss", number, "--json"))
    timeline = json.loads(ok("show", number, "--json"))["timeline"]
    event = next(e for e in timeline if e["action"] == "report_loss")
    out = tmp_path / "receipt.pdf"
    line = ok("receipt", number, str(event["id"]), "--out", str(out))
    text = pypdf.PdfReader(BytesIO(out.read_bytes())).pages[0].extract_text()
    assert lost["status"]["code"] == "lost"
    assert line.startswith("HZ") and "正式挂失" in line
    assert "正式挂失" in text and "北京时间" in text and number not in text
    refused = cards("receipt", number, str(timeline[0]["id"]), "--out", str(tmp_path / "x.pdf"))
    assert refused.returncode == 1 and "没有这笔业务的柜面回执" in refused.stderr
