"""Clerks use the card issuance pages through Chromium: apply for a card, report a card lost
through the confirmation step and unlock it, hand a box over by typing its code."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from tests.conftest import needs_chromium
from tests.e2e.test_issuance_pages import BANK_NAME, active_card, boxed_cards, person, place
from tests.support import Account, LiveServer

pytestmark = [needs_chromium, pytest.mark.browser]


def log_in(page: Any, server: LiveServer, account: Account, path: str) -> None:
    page.goto(f"{server.url}{path}")
    page.fill("input[name=username]", account.username)
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}{path}")


def test_a_clerk_applies_for_a_card_and_finds_it_with_its_timeline(
    page: Any, live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    applicant = person()
    bank = place().bank
    log_in(page, live_server, make_account("clerk"), "/cards/apply")

    page.fill("#f-find_id_number", applicant.id_number)
    page.click("#find-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/cards/apply/p/[0-9A-Z]{26}$"))
    assert applicant.id_number not in page.url
    assert page.locator("#applicant-id-number").inner_text().endswith(applicant.id_number[-4:])
    assert "*" in page.locator("#applicant-id-number").inner_text()
    assert "已采集" in page.locator("#field-photo").inner_text()
    assert page.locator("#field-live_card").inner_text().strip() == "无"
    page.wait_for_function("() => document.getElementById('applicant-photo').naturalWidth > 0")

    page.select_option("#f-bank_code", bank)
    assert BANK_NAME in page.locator("#f-bank_code option:checked").inner_text()
    page.select_option("#f-pickup_place", place().hall)
    page.check("#f-mode-batch")
    page.click("#apply-button")

    page.wait_for_url(re.compile(r".*/cards/c/[0-9A-Z]{26}$"))
    assert page.locator("#flash").inner_text() == "制卡申请已受理"
    assert page.locator("#fact-status").inner_text() == "已申请"
    assert "st-applied" in page.locator("#fact-status .st").get_attribute("class")
    assert BANK_NAME in page.locator("#fact-bank").inner_text()
    first = page.locator("#timeline .tl-item").first
    assert "制卡申请" in first.inner_text() and "已申请" in first.inner_text()
    assert applicant.id_number not in page.content()
    assert page.locator("#op-cancel").is_visible()
    assert page.locator("#op-loss").count() == 0

    page.click("#nav-apply")
    page.fill("#f-find_id_number", applicant.id_number)
    page.click("#find-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/cards/apply/p/[0-9A-Z]{26}$"))
    assert "不能重复申领" in page.locator("#field-live_card").inner_text()


def test_an_active_card_is_reported_lost_after_confirming_and_then_unlocked(
    page: Any, live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    card = active_card()
    log_in(page, live_server, make_account("clerk"), "/cards")

    page.fill("#f-card_ref", card.card_number)
    page.press("#f-card_ref", "Enter")
    page.wait_for_url(f"{live_server.url}/cards/c/{card.card_id}")
    assert page.locator("#fact-status").inner_text() == "正常"
    assert page.locator("#fact-bank-account").inner_text().startswith("621700*********0123")

    page.click("#op-loss")
    page.wait_for_url(f"{live_server.url}/cards/c/{card.card_id}/loss")
    assert "正式挂失后该卡及电子社保卡将暂停使用" in page.locator("#consequence").inner_text()
    assert page.locator("#summary-card-number").inner_text() == card.card_number
    page.click("#cancel-link")
    page.wait_for_url(f"{live_server.url}/cards/c/{card.card_id}")
    assert page.locator("#fact-status").inner_text() == "正常"

    page.click("#op-loss")
    page.fill("#f-note", "持卡人本人到柜台")
    page.click("#confirm-button")
    page.wait_for_url(f"{live_server.url}/cards/c/{card.card_id}")
    assert page.locator("#flash").inner_text() == "已正式挂失，该卡及电子社保卡已暂停使用"
    assert page.locator("#fact-status").inner_text() == "正式挂失"
    latest = page.locator("#timeline .tl-item").first
    assert latest.get_attribute("data-action") == "report_loss"
    assert "正常 → 正式挂失" in latest.locator(".tl-move").inner_text()
    assert "持卡人本人到柜台" in latest.inner_text()
    assert page.locator("#op-loss").count() == 0

    page.click("#op-unlock")
    assert "恢复正常使用" in page.locator("#consequence").inner_text()
    page.click("#confirm-button")
    page.wait_for_url(f"{live_server.url}/cards/c/{card.card_id}")
    assert page.locator("#flash").inner_text() == "已解挂，卡片恢复正常"
    assert page.locator("#fact-status").inner_text() == "正常"
    assert page.locator("#timeline .tl-item").first.get_attribute("data-action") == "unlock"


def test_a_box_is_handed_over_by_typing_its_code(
    page: Any, live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    code, cards = boxed_cards(3)
    hall = place().hall
    log_in(page, live_server, make_account("clerk"), "/cards/handover")

    assert page.evaluate("document.activeElement.id") == "f-code"
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/cards/handover?box={code}")
    assert page.locator("#box-code").inner_text() == code
    rows = page.locator("#box-cards tbody tr")
    assert rows.count() == 3
    assert [rows.nth(n).locator("td").nth(1).inner_text() for n in range(3)] == [
        c.card_number for c in cards
    ]
    assert page.evaluate("document.activeElement.id") == "f-to_place"

    page.select_option("#f-to_place", hall)
    page.fill("#f-handler", "卡商送货员")
    page.fill("#f-receiver", "大厅柜员")
    page.click("#handover-button")
    page.wait_for_url(f"{live_server.url}/cards/handover?box={code}")
    assert page.locator("#flash").inner_text() == "交接已登记"
    locations = page.locator("#box-cards .card-location").all_inner_texts()
    assert len(locations) == 3 and all("测试服务大厅" in text for text in locations)
    assert "测试服务大厅" in page.locator("#box-location").inner_text()
    assert page.locator("#box-cards .st-at_distribution_point").count() == 3
    assert "卡商送货员 交 大厅柜员" in page.locator("#recent-moves").inner_text()
    assert page.evaluate("document.activeElement.id") == "f-code"

    page.locator("#box-cards a", has_text="查看").first.click()
    page.wait_for_url(f"{live_server.url}/cards/c/{cards[0].card_id}")
    assert "测试服务大厅" in page.locator("#fact-location").inner_text()
    assert page.locator("#handovers li").count() == 1


def test_on_a_phone_a_clerk_reports_a_loss_prints_its_receipt_and_exports_the_persons_cards(
    page: Any, live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    card = active_card()
    log_in(page, live_server, make_account("clerk"), f"/cards/c/{card.card_id}")
    page.click("#op-loss")
    page.click("#confirm-button")
    page.wait_for_url(f"{live_server.url}/cards/c/{card.card_id}")
    button = page.locator("#receipt-latest")
    assert button.is_visible() and button.inner_text() == "打印柜面业务回执"
    box = button.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
    receipt = page.request.get(f"{live_server.url}{button.get_attribute('href')}")
    assert receipt.status == 200 and receipt.headers["content-type"] == "application/pdf"
    assert page.locator("#timeline .tl-item").first.locator(".tl-receipt").count() == 1

    page.goto(f"{live_server.url}/cards?mode=person")
    page.fill("#f-id_number", card.person.id_number)
    page.press("#f-id_number", "Enter")
    page.wait_for_selector("#export-cards-xlsx")
    with page.expect_download() as downloading:
        page.click("#export-cards-xlsx")
    download = downloading.value
    assert download.suggested_filename.endswith(".xlsx")
    assert page.locator("#export-cards-csv").is_visible()
    assert card.person.id_number not in page.content()
