"""Batch work from the pages against the real province, bank and vendor peers: the waiting
applications are listed, exported as a batch, sent, fetched and imported by a card manager
in the browser's forms; errors come back on the batch page in words, never as a 500."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable

import httpx
from tests.e2e.test_batch_cycle import World, _applicants, _apply, world  # noqa: F401
from tests.e2e.test_issuance_pages import csrf, pages_as
from tests.support import Account, LiveServer, login

BATCH_NO = re.compile(r"已导出批次 (\w+)")


def _prepared(world: World) -> None:  # noqa: F811 - the fixture is used by name
    province_pem = httpx.get(f"{world.env['SSCARD_PROVINCE_URL']}/keys/province.pem").text
    (world.folder / "trust").mkdir(exist_ok=True)
    (world.folder / "trust" / "province.pem").write_text(province_pem)
    prefix = "P" + secrets.token_hex(1).upper()[:1]
    world.cli("issuance", "ranges", "add", world.region, prefix, "1", "99999")
    world.cli("batch", "keys", "--dir", str(world.folder / "trust"))


def test_a_card_manager_runs_a_batch_from_the_pages(
    world: World,  # noqa: F811 - the fixture above
    make_account: Callable[..., Account],
) -> None:
    numbers = _applicants("0124678X", 4) + _applicants("3", 1)
    with world.server.client(login(world.server, make_account("clerk"))) as http:
        _apply(http, world, numbers)
    _prepared(world)
    with pages_as(world.server, make_account("card_manager")) as http:
        pending = http.get("/cards/pending")
        assert pending.status_code == 200
        assert f"共 {len(numbers)} 条" in pending.text and 'id="export-button"' in pending.text
        assert not any(number in pending.text for number in numbers)

        exported = http.post("/cards/batches/export", data={"csrf_token": csrf(http)})
        assert exported.status_code == 201, exported.text
        found = BATCH_NO.search(exported.text)
        assert found is not None
        batch_no = found.group(1)
        assert 'id="send-button"' in exported.text
        assert "没有等待制卡的申请" in http.get("/cards/pending").text

        sent = http.post(f"/cards/batches/{batch_no}/send", data={"csrf_token": csrf(http)})
        assert sent.status_code == 200 and "已报送省卡管" in sent.text

        deadline = time.monotonic() + 120
        while True:
            fetched = http.post(f"/cards/batches/{batch_no}/fetch", data={"csrf_token": csrf(http)})
            assert fetched.status_code == 200, fetched.text
            if "制卡结果文件已下载" in fetched.text or time.monotonic() > deadline:
                break
            assert "省卡管处理中" in fetched.text
            time.sleep(0.5)
        assert "制卡结果文件已下载" in fetched.text

        imported = http.post(
            f"/cards/batches/{batch_no}/result",
            data={"csrf_token": csrf(http)},
            files={"file": ("", b"", "application/octet-stream")},
        )
        assert imported.status_code == 200, imported.text
        assert "制卡成功 4 张，制卡失败 1 张" in imported.text
        again = http.post(f"/cards/batches/{batch_no}/result", data={"csrf_token": csrf(http)})
        assert "已导入过" in again.text


def test_batch_work_without_a_province_address_is_refused_in_words(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    with pages_as(live_server, make_account("card_manager")) as http:
        exported = http.post("/cards/batches/export", data={"csrf_token": csrf(http)})
        assert exported.status_code < 500
        sent = http.post("/cards/batches/NOSUCHBATCH/send", data={"csrf_token": csrf(http)})
        assert sent.status_code == 404 and "不存在" in sent.text
        stale = http.post("/cards/batches/export", data={"csrf_token": "nope"})
        assert stale.status_code == 403 and "页面已过期" in stale.text
    with pages_as(live_server, make_account("clerk")) as http:
        refused = http.post("/cards/batches/export", data={"csrf_token": csrf(http)})
        assert refused.status_code == 403
        assert http.get("/cards/pending").status_code == 403
