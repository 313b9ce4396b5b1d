"""An operator logs in and out through Chromium."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.conftest import needs_chromium
from tests.support import Account, LiveServer

pytestmark = [needs_chromium, pytest.mark.browser]


def test_an_operator_logs_in_sees_the_components_and_logs_out(
    page: Any, live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    account = make_account("clerk")
    page.goto(f"{live_server.url}/")
    assert "/login?next=/" in page.url
    page.fill("input[name=username]", account.username)
    page.fill("input[name=password]", "not-the-password1")
    page.click("button[type=submit]")
    assert page.locator("#login-error").inner_text() == "用户名或密码错误"
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert "欢迎" in page.locator("h1").inner_text()
    assert page.locator("#components article").count() == 9
    page.click("text=退出")
    page.wait_for_url(f"{live_server.url}/login")
    page.goto(f"{live_server.url}/")
    assert "/login" in page.url


def test_a_login_form_without_its_csrf_cookie_is_refused(
    page: Any, live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    account = make_account("clerk")
    page.goto(f"{live_server.url}/login")
    page.context.clear_cookies()
    page.fill("input[name=username]", account.username)
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit]")
    assert "页面已过期" in page.locator("#login-error").inner_text()
