"""The API reference at /api/docs draws the operations with nothing but this server:
every request to another host is refused by the browser, as it is on an offline network."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from tests.conftest import needs_chromium
from tests.support import LiveServer

pytestmark = [needs_chromium, pytest.mark.browser]


@pytest.mark.parametrize("size", [(390, 844), (1280, 800)], ids=["phone", "desktop"])
def test_the_api_docs_render_their_operations_without_the_internet(
    browser: Any, live_server: LiveServer, size: tuple[int, int]
) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": size[0], "height": size[1]})
    own_host = urlsplit(live_server.url).netloc
    outside: list[str] = []

    def only_this_server(route: Any) -> None:
        if urlsplit(route.request.url).netloc == own_host:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_server)
    page = context.new_page()
    page.set_default_timeout(45000)
    page.goto(f"{live_server.url}/api/docs")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 5
    assert page.locator(".opblock-tag", has_text="health").count() == 1
    assert outside == []
    context.close()
