"""The wallet's card business in Chromium at a phone's size: the enabling with its bank
side, a formal loss then an instant card at a chosen bank branch, a phone number change
confirmed by the code sent to the old number; and the counter adding a channel without a
new e-card PIN."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.browser.test_wallet_self_service import fits, log_in
from tests.conftest import needs_chromium
from tests.e2e.test_ecard_channels import opens_in, second_channel
from tests.e2e.test_ecard_pages import CARD_PIN, ECARD_PIN, HOLDER_NAME, active_holder, setting
from tests.e2e.test_wallet_phone import NEW_PHONE, code_in, phone_on_record, sms_to
from tests.support import Account, LiveServer

pytestmark = [needs_chromium, pytest.mark.browser]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def test_a_formal_loss_then_an_instant_card_at_a_chosen_bank_on_a_phone(
    phone: Any, live_server: LiveServer
) -> None:
    holder, bank = active_holder(), setting().bank
    log_in(phone, live_server, holder)
    phone.wait_for_url(f"{live_server.url}/wallet")
    phone.click("#menu-card")
    phone.wait_for_url(f"{live_server.url}/wallet/card")
    assert "跳过了银行账户激活" in phone.inner_text("#enabling-bank")
    assert fits(phone)
    phone.fill("#f-ecard_pin", ECARD_PIN)
    phone.click("#formal-submit")
    phone.wait_for_selector("#formal-error-confirm")
    assert phone.input_value("#f-ecard_pin") == ""
    phone.fill("#f-ecard_pin", ECARD_PIN)
    phone.check("#formal-confirm")
    phone.click("#formal-submit")
    phone.wait_for_selector("#card-done")
    assert phone.inner_text("#card-status") == "正式挂失"
    assert "补换卡" in phone.inner_text("#card-done")
    assert fits(phone)
    phone.select_option("#i-bank_code", bank)
    phone.check("#instant-confirm")
    phone.click("#instant-submit")
    phone.wait_for_selector("#card-instant")
    assert "测试合作银行" in phone.inner_text("#card-instant")
    assert phone.inner_text("#card-status") == "已申请"
    assert fits(phone)


def test_a_phone_number_change_confirmed_by_the_code_sent_to_the_old_number(
    phone: Any, live_server: LiveServer
) -> None:
    holder = active_holder()
    log_in(phone, live_server, holder)
    phone.wait_for_url(f"{live_server.url}/wallet")
    phone.click("#menu-phone")
    phone.wait_for_url(f"{live_server.url}/wallet/phone")
    assert phone.inner_text("#old-phone") == "138****0000"
    assert phone.locator("#at-counter").is_visible()
    phone.fill("#p-new_phone", NEW_PHONE)
    phone.click("#code-submit")
    phone.wait_for_selector("#code-sent")
    assert fits(phone)
    phone.fill("#p-code", code_in(sms_to(holder)["text"]))
    phone.click("#confirm-submit")
    phone.wait_for_selector("#phone-done")
    assert phone.inner_text("#old-phone") == "139****1357"
    assert phone_on_record(holder) == NEW_PHONE
    assert fits(phone)


def test_the_counter_adds_a_channel_without_a_pin_and_keeps_the_channel_after_a_refusal(
    page: Any, live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    holder, channel = active_holder(), second_channel()
    account = make_account("clerk")
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", account.username)
    page.fill("input[name=password]", account.password)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/ecard/counter")
    page.fill("#c-card_number", holder.card_number)
    page.click("#find-form button[type=submit]")
    page.wait_for_selector("#has-ecard")
    assert page.locator("#c-ecard_pin").count() == 0
    page.fill("#c-name", HOLDER_NAME)
    page.fill("#c-id_number", holder.id_number)
    page.fill("#c-card_pin", "000001")
    page.check("#c-real_person")
    page.select_option("#c-channel", channel)
    page.click("#sign-button")
    page.wait_for_selector("#error-card_pin")
    assert page.input_value("#c-channel") == channel
    assert page.is_checked("#c-real_person")
    assert page.input_value("#c-card_pin") == ""
    page.fill("#c-name", HOLDER_NAME)
    page.fill("#c-id_number", holder.id_number)
    page.fill("#c-card_pin", CARD_PIN)
    page.click("#sign-button")
    page.wait_for_selector("#signed")
    assert channel in page.inner_text("#copies")
    assert opens_in(live_server, holder, channel) == 201
