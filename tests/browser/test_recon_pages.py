"""A clerk resolves reconciliation differences in Chromium (one with the confirmation box
forgotten first), an administrator approves the one above the four-eyes limit, the day's
differences download as Excel, and the settlement report shows the cleared day's chart; a
clerk on a phone uploads the bank's daily file through the page and sees the day."""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from tests.browser.test_registry_pages import log_in
from tests.conftest import needs_chromium
from tests.integration.payments import recon_books as books
from tests.support import Account, LiveServer, login

from sscard import db
from sscard.db import utcnow
from sscard.payments.clearing import rules
from sscard.payments.clearing import service as clearing_service
from sscard.payments.ledger import service as ledger_service
from sscard.payments.recon import dailyfile
from sscard.payments.recon.dailyfile import Header, Record

pytestmark = [needs_chromium, pytest.mark.browser]


@pytest.fixture
def cleared_day(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[date, str, str, list[str]]]:
    """Payments of a new merchant and bank booked on a past day of this test's own, the day
    cleared and committed (the clearing clock past its cut-off). A day of its own: a cleared
    day's transfers stay in the ledger, and other tests clear today with what they book."""
    day = date(2001, 1, 1) + timedelta(days=secrets.randbelow(7_000))
    start, end = rules.window(day, clearing_service.cutoff())
    bank = f"B{books.tag()}"
    nos = [books.order_no() for _ in range(3)]
    with monkeypatch.context() as clock, db.transaction() as session:
        clock.setattr(ledger_service, "utcnow", lambda: start + timedelta(hours=10))
        merchant = books.merchant(session, fee_bp=38)
        for no, amount in zip(nos, (12_000, 3_000, 4_500), strict=True):
            books.pay(session, no=no, bank=bank, merchant=merchant, amount=amount)
    monkeypatch.setattr(clearing_service, "utcnow", lambda: end + timedelta(seconds=1))
    with db.transaction() as session:
        session.execute(text("DELETE FROM payments_clearing_line WHERE day = :d"), {"d": day})
        session.execute(text("DELETE FROM payments_clearing_day WHERE day = :d"), {"d": day})
        clearing_service.run_day(session, day=day, actor=books.operator("清算"))
    yield day, bank, merchant, nos
    with db.transaction() as session:
        session.execute(text("DELETE FROM payments_clearing_line WHERE day = :d"), {"d": day})
        session.execute(text("DELETE FROM payments_clearing_day WHERE day = :d"), {"d": day})


def test_a_clerk_resolves_differences_a_second_operator_approves_and_the_reports_show(
    page: Any,
    live_server: LiveServer,
    make_account: Callable[..., Account],
    cleared_day: tuple[date, str, str, list[str]],
) -> None:
    day, bank, merchant, nos = cleared_day
    clerk, admin = make_account("clerk"), make_account("admin")
    big = books.order_no()
    at = dailyfile.utc_text(utcnow())
    data = dailyfile.write(
        Header("bank", bank, day),
        [
            Record(nos[0], "debit", 12_000, "done", at),
            Record(nos[2], "debit", 4_500, "done", at),
            Record(big, "debit", 250_000, "done", at),
        ],
    )  # nos[1] is missing (ours only, 30 yuan); big is theirs only (2,500 yuan)
    answer = httpx.post(
        f"{live_server.url}/api/v1/payments/recon/imports",
        content=data,
        headers={
            "Authorization": f"Bearer {login(live_server, clerk)}",
            "Content-Type": "text/plain",
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["differences"] == 2

    log_in(page, live_server, clerk, f"/payments/recon?day={day}&merchant={merchant}")
    report = page.locator("#recon-merchants tr", has_text=merchant).inner_text()
    assert "195.00" in report and "0.74" in report  # 19,500 fen paid, fee 74 fen
    row = page.locator("#diff-list tr", has_text=nos[1])
    assert "我方有、对方无" in row.inner_text() and "30.00" in row.inner_text()
    row.locator("select").select_option("adjust")
    row.locator("input[name=reason]").fill("银行无此笔，先挂账")
    row.locator("button").click()
    assert "已核对" in page.content() and page.locator("h1").inner_text() != "对账"

    page.goto(f"{live_server.url}/payments/recon?day={day}&merchant={merchant}")
    row = page.locator("#diff-list tr", has_text=nos[1])
    row.locator("select").select_option("adjust")
    row.locator("input[name=reason]").fill("银行无此笔，先挂账")
    row.locator("input[name=confirm]").check()
    row.locator("button").click()
    assert page.locator("#flash").inner_text() == "差错已处理"

    page.goto(f"{live_server.url}/payments/recon?day={day}&kind=theirs_only")
    row = page.locator("#diff-list tr", has_text=big)
    row.locator("select").select_option("adjust")
    row.locator("input[name=reason]").fill("银行多扣，向银行追索")
    row.locator("input[name=confirm]").check()
    row.locator("button").click()
    assert "等待另一位操作员" in page.locator("#flash").inner_text()
    assert page.locator(f"#diff-list tr:has-text('{big}') button").count() == 0

    with page.expect_download() as got:
        page.click("#export-differences")
    sheet = load_workbook(io.BytesIO(open(got.value.path(), "rb").read())).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row]
    assert big in cells and nos[1] in cells and "对方有、我方无" in cells

    page.context.clear_cookies()
    log_in(page, live_server, admin, f"/payments/recon?day={day}&kind=theirs_only")
    page.locator(f"#diff-list tr:has-text('{big}') button").click()
    assert page.locator("#flash").inner_text() == "复核通过，调账已入账"
    assert "已处理" in page.locator("#diff-list tr", has_text=big).inner_text()

    page.goto(f"{live_server.url}/payments/settlement?day={day}")
    assert page.locator("#settlement-chart rect.bar").count() >= 1
    line = page.locator("#settlement-merchants tr", has_text=merchant).inner_text()
    assert "195.00" in line and "194.26" in line
    assert "北京时间" in page.locator("#settlement-summary").inner_text()


PHONE = {"width": 375, "height": 740}


def test_a_clerk_uploads_the_bank_daily_file_on_the_page_and_sees_the_day_on_a_phone(
    page: Any,
    live_server: LiveServer,
    make_account: Callable[..., Account],
    cleared_day: tuple[date, str, str, list[str]],
    tmp_path: Path,
) -> None:
    day, bank, merchant, nos = cleared_day
    at = dailyfile.utc_text(utcnow())
    extra = books.order_no()
    good = tmp_path / f"BANK_{day:%Y%m%d}.txt"
    good.write_bytes(
        dailyfile.write(
            Header("bank", bank, day),
            [
                Record(nos[0], "debit", 12_000, "done", at),
                Record(nos[1], "debit", 3_100, "done", at),
                Record(extra, "debit", 800, "done", at),
            ],
        )
    )  # nos[1] 31 yuan against our 30; nos[2] missing; extra theirs only
    page.set_viewport_size(PHONE)
    log_in(page, live_server, make_account("clerk"), "/payments/recon")
    assert page.locator("#recon-upload h2").inner_text() == "导入对账文件"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.click("#recon-upload-submit")
    assert page.locator("#file-check").inner_text() == "请选择要导入的对账文件（.txt 或 .csv）"
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:
        handle.truncate(100 * 1024 * 1024 + 1)
    page.set_input_files("#f-file", str(huge))
    page.click("#recon-upload-submit")
    assert "文件过大：对账文件不能超过 100 MB" in page.locator("#file-check").inner_text()
    assert page.locator("#f-file").get_attribute("aria-invalid") == "true"
    assert page.url.endswith("/payments/recon")

    broken = tmp_path / "broken.txt"
    broken.write_bytes(good.read_bytes()[:-10])
    page.set_input_files("#f-file", str(broken))
    page.click("#recon-upload-submit")
    assert "对账文件被拒绝：第 5 行" in page.locator("#form-alert").inner_text()
    assert page.locator("#field-file .field-error", has_text="第 5 行").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.set_input_files("#f-file", str(good))
    page.click("#recon-upload-submit")
    page.wait_for_url(f"{live_server.url}/payments/recon?day={day}&imported=*")
    assert page.locator("#flash").inner_text() == "对账文件已导入并与我方账务核对完毕"
    assert page.locator("#import-result").inner_text() == (
        f"银行 {bank} {day} 的对账文件：读入 3 笔，核对一致 1 笔，发现差错 3 笔"
        "（扣款合计 159.00 元，入账合计 0.00 元）"
    )
    assert page.locator("h1").inner_text() == f"对账：{day}"
    report = page.locator("#recon-merchants tr", has_text=merchant).inner_text()
    assert "195.00" in report and "0.74" in report
    kinds = {
        nos[1]: "金额不符",
        nos[2]: "我方有、对方无",
        extra: "对方有、我方无",
    }
    for ref, kind in kinds.items():
        assert kind in page.locator("#diff-list tr", has_text=ref).inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.set_input_files("#f-file", str(good))
    page.click("#recon-upload-submit")
    assert "此前已导入过" in page.locator("#flash").inner_text()
    assert "读入 3 笔，核对一致 1 笔，发现差错 3 笔" in page.locator("#import-result").inner_text()
    assert page.locator("#recon-imports tbody tr", has_text=bank).count() == 1
