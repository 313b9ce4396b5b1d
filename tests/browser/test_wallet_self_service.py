"""The wallet's self-service in Chromium at a phone's and a desktop's size: a refused login
keeps the ID number typed, 亮证 shows a credential QR with its Beijing expiry, the access
log labels Beijing time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.test_wallet_terminal import _camera_video
from tests.conftest import CHROMIUM, needs_chromium
from tests.e2e.test_ecard_pages import (
    ECARD_PIN,
    HOLDER_NAME,
    Holder,
    active_holder,
    browser_client,
    qr_png,
)
from tests.support import LiveServer

pytestmark = [needs_chromium, pytest.mark.browser]

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


@pytest.fixture(params=sorted(SIZES))
def screen(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    viewport = SIZES[request.param]
    context = browser.new_context(locale="zh-CN", viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def log_in(page: Any, server: LiveServer, holder: Holder, pin: str = ECARD_PIN) -> None:
    page.goto(f"{server.url}/wallet/login")
    page.fill("#w-id_number", holder.id_number)
    page.fill("#w-ecard_pin", pin)
    page.select_option("#w-channel", holder.channel)
    page.click("#wallet-login button[type=submit]")
    page.wait_for_load_state()


def fits(page: Any) -> bool:
    width = page.viewport_size["width"]
    return bool(page.evaluate("document.documentElement.scrollWidth") <= width)


def test_a_wrong_pin_keeps_the_id_number_typed_and_the_retry_opens_the_wallet(
    screen: Any, live_server: LiveServer
) -> None:
    holder = active_holder()
    log_in(screen, live_server, holder, pin="135792")
    assert screen.locator("#wallet-error").is_visible()
    assert screen.input_value("#w-id_number") == holder.id_number
    assert screen.input_value("#w-ecard_pin") == ""
    screen.fill("#w-ecard_pin", ECARD_PIN)
    screen.click("#wallet-login button[type=submit]")
    screen.wait_for_url(f"{live_server.url}/wallet")
    assert fits(screen)


def test_the_credential_button_shows_a_qr_with_its_beijing_expiry(
    screen: Any, live_server: LiveServer
) -> None:
    holder = active_holder()
    log_in(screen, live_server, holder)
    screen.wait_for_url(f"{live_server.url}/wallet")
    assert screen.locator("#credential-button").is_visible()
    screen.click("#credential-button")
    screen.wait_for_selector("#credential-panel")
    assert screen.locator("#credential-qr svg").is_visible()
    assert screen.get_attribute("#credential-panel", "data-credential").startswith("ECR")
    assert "（北京时间）" in screen.inner_text("#credential-expiry")
    assert screen.inner_text("#credential-holder") == "测***"
    box = screen.locator("#credential-qr svg").bounding_box()
    assert box["width"] >= 200
    assert fits(screen)
    screen.click("#credential-again")
    screen.wait_for_selector("#credential-panel")
    screen.goto(f"{live_server.url}/wallet/access-log")
    assert "北京时间" in screen.inner_text("#access-log")
    assert fits(screen)


def test_a_guardian_adds_an_elder_who_agrees_in_their_own_wallet(
    browser: Any, screen: Any, live_server: LiveServer
) -> None:
    guardian, elder = active_holder(), active_holder(born="19500301")
    log_in(screen, live_server, guardian)
    screen.click("#menu-family")
    screen.wait_for_url(f"{live_server.url}/wallet/family-service")
    screen.fill("#f-member_id_number", elder.id_number)
    screen.fill("#f-member_name", "别人")
    screen.click("#family-add button[type=submit]")
    screen.wait_for_selector("#family-error")
    assert screen.input_value("#f-member_id_number") == elder.id_number
    screen.fill("#f-member_name", HOLDER_NAME)
    screen.click("#family-add button[type=submit]")
    screen.wait_for_selector("#family-done")
    assert "等待对方同意" in screen.inner_text("#family-members")
    assert fits(screen)

    context = browser.new_context(locale="zh-CN", viewport=screen.viewport_size)
    try:
        theirs = context.new_page()
        log_in(theirs, live_server, elder)
        theirs.goto(f"{live_server.url}/wallet/family-service")
        theirs.click(".request-consent")
        theirs.wait_for_selector("#family-done")
        assert theirs.locator(".request-refuse").inner_text() == "撤回同意"
        assert fits(theirs)
    finally:
        context.close()
    screen.reload()
    assert "暂不能代为出示" not in screen.inner_text("#family-members")
    screen.goto(f"{live_server.url}/wallet")
    screen.wait_for_selector("#family:not([hidden])")
    assert screen.locator("#family .w-member").count() == 2


def test_elder_mode_at_a_phone_size_is_larger_plainer_and_remembered(
    browser: Any, live_server: LiveServer
) -> None:
    elder, helper = active_holder(born="19500301"), active_holder()
    context = browser.new_context(locale="zh-CN", viewport=SIZES["phone"])
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto(f"{live_server.url}/wallet/login")
        page.click("#mode-switch")
        page.wait_for_selector("body.elder")
        assert page.url == f"{live_server.url}/wallet/login"
        log_in(page, live_server, elder)
        page.wait_for_url(f"{live_server.url}/wallet")
        assert page.locator("body.elder").count() == 1
        size = page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('.w-main')).fontSize)"
        )
        assert size >= 20
        button = page.locator("#credential-button").bounding_box()
        assert button["height"] >= 56
        assert (
            page.evaluate("getComputedStyle(document.querySelector('.w-main')).color")
            == "rgb(0, 0, 0)"
        )
        assert not page.locator(".w-tabs").is_visible()
        assert page.locator("#menu-access").count() == 0
        assert page.locator("#elder-say").is_visible()
        assert "还没有家人帮您" in page.inner_text("#family-help")
        assert fits(page)

        with_helper = browser.new_context(locale="zh-CN", viewport=SIZES["phone"])
        try:
            theirs = with_helper.new_page()
            log_in(theirs, live_server, helper)
            theirs.goto(f"{live_server.url}/wallet/family-service")
            theirs.fill("#f-member_id_number", elder.id_number)
            theirs.fill("#f-member_name", HOLDER_NAME)
            theirs.click("#family-add button[type=submit]")
            theirs.wait_for_selector("#family-done")
        finally:
            with_helper.close()
        page.reload()
        assert "想帮您" in page.inner_text("#family-help")
        page.click("#elder-family")
        page.click(".request-consent")
        page.wait_for_selector("#family-done")
        page.goto(f"{live_server.url}/wallet")
        assert "可以帮您出示电子社保卡" in page.inner_text("#family-help")
        assert fits(page)

        page.click("#mode-switch")
        page.wait_for_selector("body:not(.elder)")
        assert page.locator("#family-help").count() == 0
        assert page.locator(".w-tabs").is_visible()
    finally:
        context.close()


def test_the_scan_screen_reads_an_uploaded_login_qr_and_the_portal_shows_who_logged_in(
    screen: Any, browser: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    holder = active_holder()
    portal_context = browser.new_context(locale="zh-CN", viewport=SIZES["desktop"])
    try:
        portal = portal_context.new_page()
        portal.goto(f"{live_server.url}/portal-demo")
        qr_text = portal.get_attribute("#qr-text", "data-qr")
        picture = tmp_path / "login.png"
        picture.write_bytes(qr_png(qr_text))

        log_in(screen, live_server, holder)
        screen.click("#menu-scan")
        screen.wait_for_url(f"{live_server.url}/wallet/scan")
        screen.click("#scan-submit")
        screen.wait_for_selector("#scan-error")
        screen.set_input_files("#s-image", str(picture))
        screen.click("#scan-submit")
        screen.wait_for_selector("#scan-login")
        assert "政务服务网（演示）" in screen.inner_text("#scan-client")
        assert fits(screen)
        screen.click("#scan-confirm")
        screen.wait_for_selector("#scan-confirmed")
        portal.locator("#login-done").wait_for(state="visible", timeout=20000)
        assert portal.locator("#login-name").inner_text() == "测***"
    finally:
        portal_context.close()


def test_the_wallet_camera_reads_a_portals_login_qr(
    browser: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    holder = active_holder()
    with browser_client(live_server) as http:
        qr_text = http.get("/portal-demo").text.split('data-qr="')[1].split('"')[0]
    clip = _camera_video(qr_text, tmp_path / "camera.y4m")
    camera_args = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}",
    ]
    with_camera = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + camera_args
    )
    try:
        context = with_camera.new_context(locale="zh-CN", viewport=SIZES["phone"])
        context.grant_permissions(["camera"], origin=live_server.url)
        page = context.new_page()
        page.set_default_timeout(20000)
        log_in(page, live_server, holder)
        page.goto(f"{live_server.url}/wallet/scan")
        assert page.locator("#camera").is_visible()
        page.click("#camera-start")
        page.wait_for_selector("#scan-login")
        assert page.get_attribute("#scan-login", "data-ticket") == qr_text[3:]
        assert fits(page)
    finally:
        with_camera.close()


def test_my_card_page_reports_a_temporary_loss_and_unlocks_it_with_the_ecard_pin(
    screen: Any, live_server: LiveServer
) -> None:
    holder = active_holder()
    log_in(screen, live_server, holder)
    screen.wait_for_url(f"{live_server.url}/wallet")
    screen.click("#menu-card")
    screen.wait_for_url(f"{live_server.url}/wallet/card")
    assert screen.inner_text("#card-status") == "正常"
    assert fits(screen)
    screen.click("#loss-submit")
    screen.wait_for_selector("#card-error")
    screen.check("#loss-confirm")
    screen.click("#loss-submit")
    screen.wait_for_selector("#card-done")
    assert screen.inner_text("#card-status") == "临时挂失"
    assert "（北京时间）" in screen.inner_text("#card-lost-at")
    screen.fill("#u-ecard_pin", ECARD_PIN)
    screen.click("#unlock-submit")
    screen.wait_for_selector("#card-done")
    assert screen.inner_text("#card-status") == "正常"
    assert fits(screen)
