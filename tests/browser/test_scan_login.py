"""The demo government portal in Chromium: it shows a scan-login QR, the resident confirms in
the wallet (here through the API the wallet uses), and the page shows who logged in."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from tests.conftest import needs_chromium
from tests.e2e.test_ecard_online_support import resident
from tests.support import LiveServer

from sscard.ecard.scanlogin import service as scanlogin

pytestmark = [needs_chromium, pytest.mark.browser]


def _ticket_on(page: Any) -> str:
    """The ticket in the QR the page shows, read from its pixels (zxing-cpp)."""
    import zxingcpp
    from PIL import Image

    shot = Image.open(io.BytesIO(page.locator("#login-qr").screenshot()))
    found = zxingcpp.read_barcodes(shot)
    assert [r.text for r in found] == [page.locator("#qr-text").get_attribute("data-qr")]
    ticket = scanlogin.ticket_id_from_qr(found[0].text)
    assert ticket is not None, found[0].text
    return ticket


def test_the_portal_shows_a_qr_and_then_the_identity_confirmed_in_the_wallet(
    page: Any, live_server: LiveServer
) -> None:
    who = resident()
    page.goto(f"{live_server.url}/portal-demo")
    assert page.locator("#login-qr svg").is_visible()
    assert page.locator("#login-status").inner_text() == "等待扫码……"
    ticket = _ticket_on(page)
    with live_server.client(who.token) as wallet:
        preview = wallet.get(f"/api/v1/ecard/login-tickets/{ticket}/preview")
        assert preview.json()["client_name"] == "政务服务网（演示）"
        confirmed = wallet.post(f"/api/v1/ecard/login-tickets/{ticket}/confirm")
        assert confirmed.status_code == 200, confirmed.text
    page.locator("#login-done").wait_for(state="visible", timeout=20000)
    assert page.locator("#login-name").inner_text() == "测***"
    assert page.locator("#login-pending").is_hidden()


def test_a_refused_login_tells_the_portal_and_offers_a_fresh_qr(
    page: Any, live_server: LiveServer
) -> None:
    who = resident()
    page.goto(f"{live_server.url}/portal-demo")
    first = _ticket_on(page)
    with httpx.Client(base_url=live_server.url, timeout=30) as wallet:
        refused = wallet.post(
            f"/api/v1/ecard/login-tickets/{first}/refuse",
            headers={"Authorization": f"Bearer {who.token}"},
        )
        assert refused.json()["status"] == "refused"
    page.locator("#login-refresh").wait_for(state="visible", timeout=20000)
    assert page.locator("#login-status").inner_text() == "您已在手机上拒绝登录。"
    page.click("#login-refresh")
    page.wait_for_load_state()
    assert _ticket_on(page) != first
