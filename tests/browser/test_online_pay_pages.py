"""The contribution page and the online-banking round trip in Chromium: the resident picks
a year, a grade and online banking, pays on the bank's page, comes back to the platform's
result page, which says 支付成功 once the bank's notice has arrived."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from tests.browser.test_wallet_self_service import log_in
from tests.conftest import needs_chromium
from tests.e2e.online_world import OnlineWorld, bank_account, online_world
from tests.e2e.test_ecard_pages import active_holder, setting

pytestmark = [needs_chromium, pytest.mark.browser]
YEAR = (datetime.now(UTC) + timedelta(hours=8)).year


@pytest.fixture(scope="module")
def world(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OnlineWorld]:
    logs = tmp_path_factory.mktemp("online-pages")
    yield from online_world(logs, [setting().bank], engine.dialect.name)


def test_a_resident_pays_a_contribution_on_the_bank_page_and_sees_the_result(
    page: Any, world: OnlineWorld
) -> None:
    holder = active_holder()
    bank = setting().bank
    account = bank_account(world, bank, holder.card_number, 500_000)
    httpx.put(f"{world.bank}/control/paypage", json={"hold_notices": False})
    log_in(page, world.server, holder)
    page.goto(f"{world.server.url}/wallet")
    page.click("#menu-contributions")
    page.wait_for_url(f"{world.server.url}/wallet/contributions")
    page.select_option("#c-year", str(YEAR))
    page.select_option("#c-grade", "50000")
    page.check("#c-online")
    page.select_option("#c-bank", bank)
    page.click("#contribution-submit")
    page.wait_for_url(f"{world.bank}/paypage?**")
    assert page.inner_text("#amount") == "500.00"
    page.fill("input[name=account]", account)
    page.fill("input[name=password]", "secret")
    page.click("button[type=submit]")
    page.wait_for_url(f"{world.server.url}/wallet/online-result?**")
    title = page.inner_text("#result-title")
    assert title in ("支付成功", "等待银行确认")
    for _ in range(50):
        if page.get_attribute("#online-result", "data-status") == "paid":
            break
        page.wait_for_timeout(200)
        page.reload()
    assert page.inner_text("#result-title") == "支付成功"
    assert "（北京时间）" in page.inner_text("#online-result")
    page.click("#back-contributions")
    mine = page.locator(f'#contribution-mine li[data-year="{YEAR}"]')
    assert "500.00 元" in mine.inner_text()


def test_the_contribution_form_names_a_missing_bank_for_online_payment(
    page: Any, world: OnlineWorld
) -> None:
    holder = active_holder()
    log_in(page, world.server, holder)
    page.goto(f"{world.server.url}/wallet/contributions")
    page.check("#c-online")
    page.click("#contribution-submit")
    assert page.inner_text("#error-bank_code") == "网银支付请选择银行"
    assert page.is_checked("#c-online")
