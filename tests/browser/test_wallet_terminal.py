"""A resident's wallet and a terminal in Chromium: the wallet shows a live code that
refreshes itself, the terminal verifies it once (pasted, uploaded as a picture, or seen by
the camera) and refuses it the second time."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.browser.conftest import CHROMIUM_ARGS
from tests.conftest import CHROMIUM, needs_chromium
from tests.e2e.test_ecard_pages import (
    ECARD_PIN,
    HOLDER_NAME,
    Holder,
    active_holder,
    bind_minor,
    qr_png,
)
from tests.support import Account, LiveServer

pytestmark = [needs_chromium, pytest.mark.browser]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A phone-sized page with a clock the test can move forward."""
    context = browser.new_context(locale="zh-CN", viewport=PHONE, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.clock.install()
    yield page
    context.close()


def open_wallet(page: Any, server: LiveServer, holder: Holder) -> str:
    """Log in to the wallet; the code it shows."""
    page.goto(f"{server.url}/wallet")
    page.wait_for_url(f"{server.url}/wallet/login")
    page.fill("#w-id_number", holder.id_number)
    page.fill("#w-ecard_pin", ECARD_PIN)
    page.select_option("#w-channel", holder.channel)
    page.click("#wallet-login button[type=submit]")
    page.wait_for_url(f"{server.url}/wallet")
    return shown_code(page)


def shown_code(page: Any) -> str:
    code = page.get_attribute("#qr-panel", "data-code")
    assert code and re.fullmatch(r"EC[A-Z2-7]{50}", code)
    return str(code)


def next_code(page: Any, old: str) -> str:
    page.wait_for_function(
        "old => document.querySelector('#qr-panel').dataset.code !== old", arg=old
    )
    return shown_code(page)


def log_in_to_terminal(page: Any, server: LiveServer, account: Account) -> None:
    page.goto(f"{server.url}/terminal")
    page.fill("input[name=username]", account.username)
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/terminal")


def verify(page: Any, scenario: str, code: str) -> str:
    """Verify a pasted code; the outcome the result panel shows."""
    page.select_option("#t-scenario", scenario)
    page.fill("#t-code", code)
    page.click("#verify-button")
    page.wait_for_load_state()
    return str(page.get_attribute("#verdict", "data-outcome"))


def test_the_wallet_shows_a_live_code_and_the_terminal_verifies_it_only_once(
    phone: Any, page: Any, live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    holder = active_holder()
    first = open_wallet(phone, live_server, holder)
    assert phone.locator("#qr-box svg").is_visible()
    assert 50 <= int(phone.inner_text("#qr-countdown")) <= 60
    assert phone.inner_text("#holder-name") == "测***"
    assert holder.card_number not in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    phone.clock.fast_forward(56_000)
    second = next_code(phone, first)
    assert int(phone.inner_text("#qr-countdown")) >= 50

    phone.click("#qr-panel .w-tab[data-business='4']")
    third = next_code(phone, second)
    assert phone.get_attribute("#qr-panel", "data-business") == "4"
    phone.click("#qr-refresh")
    code = next_code(phone, third)

    log_in_to_terminal(page, live_server, make_account("clerk"))
    assert verify(page, "library", code) == "valid"
    assert page.inner_text("#holder-name_masked") == "测***"
    assert page.inner_text("#holder-card_valid") == "有效"
    assert page.locator("#holder-id_number").count() == 0
    assert page.locator("#proxy-mark").count() == 0

    assert verify(page, "library", code) == "code_already_used"
    assert page.inner_text("#verdict-title") == "二维码已被使用"
    assert page.locator("#holder").count() == 0


def test_the_terminal_reads_an_uploaded_picture_of_the_code(
    phone: Any,
    page: Any,
    live_server: LiveServer,
    make_account: Callable[..., Account],
    tmp_path: Path,
) -> None:
    holder = active_holder()
    code = open_wallet(phone, live_server, holder)
    picture = tmp_path / "code.png"
    picture.write_bytes(qr_png(code))

    log_in_to_terminal(page, live_server, make_account("clerk"))
    page.select_option("#t-scenario", "hospital")
    page.set_input_files("#t-image", str(picture))
    page.click("#verify-button")
    page.wait_for_load_state()
    assert page.get_attribute("#verdict", "data-outcome") == "valid"
    assert page.inner_text("#holder-name") == HOLDER_NAME
    assert page.inner_text("#holder-id_number") == holder.id_number
    assert "企业职工基本养老保险" in page.inner_text("#holder-insurance")

    blank = tmp_path / "blank.png"
    Image.new("RGB", (300, 300), "white").save(blank)
    page.set_input_files("#t-image", str(blank))
    page.click("#verify-button")
    page.wait_for_load_state()
    assert "图片中没有找到二维码" in page.inner_text("#image-error")
    assert page.locator("#verdict").count() == 0


def _camera_video(code: str, path: Path) -> Path:
    """A Y4M clip (what Chromium's fake camera plays) showing the code on white."""
    width, height = 640, 480
    frame = Image.new("L", (width, height), 255)
    qr = Image.open(io.BytesIO(qr_png(code))).convert("L")
    qr.thumbnail((400, 400))
    frame.paste(qr, ((width - qr.width) // 2, (height - qr.height) // 2))
    chroma = bytes([128]) * (width * height // 4)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F5:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(5):
            out.write(b"FRAME\n" + frame.tobytes() + chroma + chroma)
    return path


def test_the_terminal_camera_finds_the_code_and_verifies_it(
    browser: Any,
    phone: Any,
    live_server: LiveServer,
    make_account: Callable[..., Account],
    tmp_path: Path,
) -> None:
    holder = active_holder()
    code = open_wallet(phone, live_server, holder)
    clip = _camera_video(code, tmp_path / "camera.y4m")
    camera_args = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}",
    ]
    with_camera = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + camera_args
    )
    try:
        context = with_camera.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
        context.grant_permissions(["camera"], origin=live_server.url)
        page = context.new_page()
        page.set_default_timeout(20000)
        log_in_to_terminal(page, live_server, make_account("clerk"))
        page.select_option("#t-scenario", "park")
        assert page.locator("#camera").is_visible()
        page.click("#camera-start")
        page.wait_for_selector("#verdict")
        assert page.get_attribute("#verdict", "data-outcome") == "valid"
        assert page.inner_text("#holder-name_masked") == "测***"
    finally:
        with_camera.close()


def test_the_family_switcher_shows_a_members_code_marked_as_proxy(
    phone: Any, page: Any, live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    guardian = active_holder()
    child = active_holder(born="20160301")
    if not bind_minor(guardian, child):
        pytest.skip("the family service is not there yet")
    own = open_wallet(phone, live_server, guardian)
    phone.wait_for_selector("#family .w-member[data-member]:not([data-member=''])")
    assert phone.locator("#qr-proxy").is_hidden()
    phone.click("#family .w-member:not([data-member=''])")
    proxy_code = next_code(phone, own)
    assert phone.locator("#qr-proxy").is_visible()
    assert phone.locator("#qr-panel .w-tab[data-business='2']").is_disabled()

    log_in_to_terminal(page, live_server, make_account("clerk"))
    assert verify(page, "library", proxy_code) == "valid"
    assert page.locator("#proxy-mark").is_visible()
