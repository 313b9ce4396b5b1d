"""Pages stay usable at phone width: the top navigation keeps each link on one line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.conftest import needs_chromium
from tests.support import Account, LiveServer

pytestmark = [needs_chromium, pytest.mark.browser]

PHONE = {"width": 375, "height": 740}


def log_in(page: Any, server: LiveServer, account: Account, path: str) -> None:
    page.goto(f"{server.url}{path}")
    page.fill("input[name=username]", account.username)
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}{path}")


@pytest.mark.parametrize("path", ["/cards/handover", "/registry/persons", "/terminal"])
def test_each_top_navigation_link_stays_on_one_line_at_phone_width(
    page: Any, live_server: LiveServer, make_account: Callable[..., Account], path: str
) -> None:
    page.set_viewport_size(PHONE)
    log_in(page, live_server, make_account("clerk"), path)
    links = page.locator("nav.topnav a")
    assert links.count() >= 2
    line_height = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight)")
    for index in range(links.count()):
        box = links.nth(index).bounding_box()
        assert box is not None
        label = links.nth(index).inner_text()
        assert box["height"] < 2 * line_height, f"{label} wraps over several lines"
        assert box["width"] > len(label) * 10, f"{label} is squeezed to one character a line"
