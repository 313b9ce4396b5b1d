"""A resident whose e-card PIN is locked unlocks it in the wallet (phone size, Chromium):
card, card PIN, name and a face photo, then a new PIN, then logs in with it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import needs_chromium
from tests.e2e.test_ecard_pages import CARD_PIN, ECARD_PIN, HOLDER_NAME, active_holder
from tests.support import LiveServer

from sscard import db
from sscard.ecard.models import ECard
from sscard.registry.photos import service as registry_photos
from sscard.settings import get_settings

pytestmark = [needs_chromium, pytest.mark.browser]


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def _log_in(page: Any, server: LiveServer, id_number: str, pin: str, channel: str) -> None:
    page.goto(f"{server.url}/wallet/login")
    page.fill("#w-id_number", id_number)
    page.fill("#w-ecard_pin", pin)
    page.select_option("#w-channel", channel)
    page.click("#wallet-login button[type=submit]")


def test_a_locked_ecard_is_unlocked_in_the_wallet_after_identity_checks(
    phone: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    holder = active_holder()
    with db.transaction() as session:
        ecard = session.query(ECard).filter_by(card_id=holder.card_id).one()
        ecard.pin_failures = get_settings().ecard_max_pin_failures
        face = registry_photos.photo_bytes(session, person_id=holder.person_id) or b""
    (tmp_path / "face.jpg").write_bytes(face)

    _log_in(phone, live_server, holder.id_number, ECARD_PIN, holder.channel)
    assert "已锁定" in phone.locator("#wallet-error").inner_text()
    phone.click("#pin-reset-link a")
    phone.wait_for_url(f"{live_server.url}/wallet/pin-reset")
    phone.fill("#r-id_number", holder.id_number)
    phone.fill("#r-name", HOLDER_NAME)
    phone.fill("#r-card_number", holder.card_number)
    phone.fill("#r-card_pin", CARD_PIN)
    phone.set_input_files("#r-face", str(tmp_path / "face.jpg"))
    phone.fill("#r-ecard_pin", "258036")
    phone.fill("#r-ecard_pin_again", "258036")
    phone.select_option("#r-channel", holder.channel)
    phone.click("#pin-reset button[type=submit]")
    assert phone.locator("#wallet-notice").inner_text() == "电子社保卡密码已重置，请用新密码登录"

    _log_in(phone, live_server, holder.id_number, "258036", holder.channel)
    phone.wait_for_url(f"{live_server.url}/wallet")
    assert phone.locator("#qr-panel").is_visible()
