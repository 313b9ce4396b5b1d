"""A clerk runs a pension batch from the pages in Chromium, with the bank peer as its own
process: a bad file comes back with each bad row named, a good one is sent and its return
fetched, the totals show paid, failed and in suspense, the failure is resolved by hand from
the failures queue, and the lines export as Excel."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from tests.browser.test_registry_pages import log_in
from tests.conftest import needs_chromium
from tests.e2e.test_disbursement_e2e import HEADER, _card, _exchange_keys, _start_bank
from tests.integration.issuance.test_activation import _bank, numbers  # noqa: F401
from tests.support import Account, LiveServer, start_server, stop_server

pytestmark = [needs_chromium, pytest.mark.browser, pytest.mark.usefixtures("numbers")]


@pytest.fixture(scope="module")
def banked(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, str]]:
    logs = tmp_path_factory.mktemp("disbursement-pages")
    bank_url, bank = _start_bank(logs / "peers", logs / "bank.log")
    _exchange_keys(logs / "peers" / "trust")
    server = start_server(
        logs / f"server-{engine.dialect.name}.log",
        extra_env={"SSCARD_BANK_URLS": json.dumps({"*": bank_url})},
    )
    yield server, bank_url
    stop_server(server)
    bank.terminate()
    bank.wait(timeout=15)


def _file(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "养老金202612.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_clerk_imports_sends_fetches_and_resolves_a_failure_on_the_pages(
    page: Any,
    banked: tuple[LiveServer, str],
    make_account: Callable[..., Account],
    tmp_path: Path,
) -> None:
    server, bank_url = banked
    bank = _bank()
    paid_holder, _, _ = _card(bank)
    frozen_holder, _, frozen_number = _card(bank)
    planted = {"card_numbers": [frozen_number], "code": "account_frozen"}
    assert httpx.put(f"{bank_url}/control/disbursement/failures", json=planted).is_success
    log_in(page, server, make_account("clerk"), "/payments/disbursements")

    bad = _file(
        tmp_path,
        [
            f"{paid_holder},测试人员,1850.00,养老金,202612",
            f"{paid_holder},测试人员,-5,养老金,202612",
        ],
    )
    page.set_input_files("#f-file", str(bad))
    page.click("#upload")
    assert "整个文件未导入" in page.locator("#form-alert").inner_text()
    rows = page.locator("#bad-row-list tbody tr")
    assert rows.count() == 1 and "第2行" in rows.first.inner_text()
    assert "金额" in rows.first.inner_text() and "负数" in rows.first.inner_text()

    good = _file(
        tmp_path,
        [
            f"{paid_holder},测试人员,1850.00,养老金,202612",
            f"{frozen_holder},测试人员,1620.00,养老金,202612",
        ],
    )
    page.set_input_files("#f-file", str(good))
    page.click("#upload")
    page.wait_for_url("**/payments/disbursements/D*")
    batch_url = page.url
    assert page.locator("#flash").inner_text() == "发放文件已导入，全部明细校验通过"
    assert page.locator("#t-total").inner_text() == "3470.00 元"
    assert "北京时间" in page.locator("#updated-at").inner_text()
    assert frozen_holder not in page.content()

    page.click("#do-send")
    assert "已发送 1 个发放文件" in page.locator("#work-done").inner_text()
    page.click("#do-fetch")
    assert "到账 1 笔，失败 1 笔" in page.locator("#work-done").inner_text()
    assert page.locator("#t-paid").inner_text() == "1850.00 元（1 笔）"
    assert page.locator("#t-failed").inner_text() == "1620.00 元（1 笔）"
    assert page.locator("#t-suspense").inner_text() == "1620.00 元"
    assert page.locator("#batch-status").inner_text() == "银行已回盘"

    with page.expect_download() as download:
        page.click("#export-xlsx")
    assert download.value.suggested_filename.endswith(".xlsx")

    page.click("#nav-disbursements")
    page.click("#failures-link")
    row = page.locator("#failure-list tr", has_text="账户冻结").first
    row.locator("input[name=note]").fill("已转现金发放")
    row.locator("button", has_text="人工处理").click()
    assert page.locator("#flash").inner_text() == "已人工处理，资金已退回待遇发放资金"
    page.goto(batch_url)
    assert page.locator("#batch-status").inner_text() == "已办结"
    assert page.locator("#t-suspense").inner_text() == "0.00 元"
    page.select_option("#f-status", "resolved")
    page.click("#filter")
    assert "已转现金发放" in page.locator("#line-list").inner_text()
    httpx.delete(f"{bank_url}/control/disbursement/failures")


def test_the_batch_list_fits_a_phone_screen(
    browser: Any, live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        log_in(page, live_server, make_account("clerk"), "/payments/disbursements")
        assert page.locator("h1").inner_text() == "待遇发放"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
