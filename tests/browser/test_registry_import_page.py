"""A clerk imports persons on a phone-sized screen: checks before upload, live progress, rejects."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.browser.test_registry_pages import log_in
from tests.conftest import needs_chromium
from tests.e2e.test_registry_import_api import _csv
from tests.support import Account, LiveServer

from sscard import db
from sscard.db import utcnow
from sscard.kit.context import Actor, ActorKind
from sscard.registry import fakes
from sscard.registry.bulk.service import UpsertCounts
from sscard.registry.imports import service as imports_service

pytestmark = [needs_chromium, pytest.mark.browser]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport=PHONE, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def test_a_clerk_imports_a_file_on_a_phone_and_downloads_the_rejects_in_chinese(
    phone: Any, live_server: LiveServer, make_account: Callable[..., Account], tmp_path: Path
) -> None:
    persons = list(fakes.persons(711, "370800", 6, employers=[], communities=[]))
    log_in(phone, live_server, make_account("clerk"), "/registry/imports")
    assert "文件不超过 200 MB" in phone.locator("#field-file").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    wrong = tmp_path / "名单.txt"
    wrong.write_text("不是表格")
    phone.set_input_files("#f-file", str(wrong))
    phone.click("#start-import")
    assert "只能导入 CSV 或 XLSX 文件" in phone.locator("#file-check").inner_text()
    assert phone.url.endswith("/registry/imports")

    huge = tmp_path / "很大的名单.csv"
    with huge.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024 + 1)
    phone.set_input_files("#f-file", str(huge))
    phone.click("#start-import")
    assert "文件过大：不能超过 200 MB" in phone.locator("#file-check").inner_text()
    assert phone.locator("#f-file").get_attribute("aria-invalid") == "true"

    good = tmp_path / "职工名单.csv"
    good.write_bytes(_csv(persons, bad_phone_at=1))
    phone.set_input_files("#f-file", str(good))
    phone.click("#start-import")
    phone.wait_for_url(f"{live_server.url}/registry/imports/*")
    phone.locator("#job-status", has_text="已完成").wait_for()
    assert phone.locator("#job-counts [data-count=imported]").inner_text() == "5"
    assert phone.locator("#job-counts [data-count=rejected]").inner_text() == "1"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    with phone.expect_download() as answer:
        phone.click("#rejects-link")
    saved = Path(answer.value.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(saved)))
    assert rows[0] == ["行号", "证件号码（已脱敏）", "拒绝原因"]
    assert rows[1][0] == "3" and "手机号码应为 11 位数字" in rows[1][2]
    assert persons[1].id_number not in saved

    phone.click("text=返回导入任务列表")
    phone.click("#status-filter >> text=已完成")
    assert "职工名单.csv" in phone.locator("#import-jobs").inner_text()
    phone.click("#status-filter >> text=失败")
    assert "职工名单.csv" not in phone.locator(".results").inner_text()


def test_the_job_page_follows_a_running_import_without_reloading(
    phone: Any, live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    clerk = make_account("clerk")
    data = _csv(list(fakes.persons(712, "370800", 4, employers=[], communities=[])))
    actor = Actor(kind=ActorKind.operator, id=clerk.username, name="测试", region_code="370800")
    with db.transaction() as session:
        opened = imports_service.submit_upload(
            session, io.BytesIO(data), file_name="进行中.csv", actor=actor
        )
        job_id = opened.job.id
    with db.transaction() as session:
        imports_service.claim_job(session, job_id=job_id, now=utcnow())

    log_in(phone, live_server, clerk, f"/registry/imports/{job_id}")
    assert phone.locator("#job-status").inner_text() == "正在导入"
    phone.evaluate("window.sameLoad = true")

    with db.transaction() as session:
        imports_service.record_chunk(
            session, job_id=job_id, totals=UpsertCounts(created=2), rejected=0, next_line=3
        )
    phone.locator("#job-counts [data-count=imported]", has_text="2").wait_for()
    assert phone.locator("#job-progress").get_attribute("value") == "50"

    with db.transaction() as session:
        imports_service.record_chunk(
            session, job_id=job_id, totals=UpsertCounts(created=4), rejected=0, next_line=5
        )
        imports_service.complete_job(session, job_id=job_id, rows_total=4)
    phone.locator("#job-status", has_text="已完成").wait_for()
    assert phone.locator("#job-running").is_hidden()
    assert phone.evaluate("window.sameLoad") is True
