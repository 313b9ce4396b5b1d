"""An administrator uses the merchant console through Chromium, at phone and desktop sizes."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.browser.test_registry_pages import log_in
from tests.conftest import needs_chromium
from tests.support import Account, LiveServer

pytestmark = [needs_chromium, pytest.mark.browser]

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


@pytest.fixture(params=sorted(SIZES))
def screen(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport=SIZES[request.param])
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def test_an_administrator_signs_up_a_merchant_after_fixing_the_account_and_suspends_it(
    screen: Any, live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    page = screen
    code = f"M{secrets.token_hex(5).upper()}"
    log_in(page, live_server, make_account("admin"), "/payments/merchants/new")

    page.fill("#f-code", code.lower())
    page.fill("#f-name", "济宁公交集团")
    page.select_option("#f-mcc", "4111")
    page.select_option("#f-institution_code", index=1)
    page.fill("#f-settlement_bank", "济宁农村商业银行")
    page.fill("#f-settlement_account", "6228-4816")
    page.fill("#f-fee_rate_bp", "20")
    page.click("#save-merchant")

    assert page.locator("#field-settlement_account .field-error").count() == 1
    assert page.locator(".field-error").count() == 1
    assert page.input_value("#f-code") == code.lower()
    assert page.input_value("#f-name") == "济宁公交集团"
    assert page.input_value("#f-mcc") == "4111"
    assert page.input_value("#f-fee_rate_bp") == "20"

    page.fill("#f-settlement_account", "6228481608000000037")
    page.click("#save-merchant")
    page.wait_for_url(re.compile(r".*/payments/merchants/\d+$"))
    assert page.locator("#flash").inner_text() == "商户已登记"
    assert page.locator("#merchant-status").inner_text() == "正常"
    assert page.locator("#masked-account").inner_text() == "622848*********0037"
    assert "6228481608000000037" not in page.content()
    assert "北京时间" in page.locator("#updated-at").inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]

    page.click("#do-suspend")
    assert page.locator("#flash").inner_text() == "商户已暂停受理"
    assert page.locator("#merchant-status").inner_text() == "暂停"

    page.goto(f"{live_server.url}/payments/merchants")
    page.select_option("#f-status", "suspended")
    page.click("#filter")
    row = page.locator("#merchant-list tr", has_text=code)
    assert "暂停" in row.inner_text() and "4111" in row.inner_text()
    assert page.locator("#f-status").input_value() == "suspended"
