"""A clerk reads a medical settlement's three-way split, refunds it after confirming, and
registers a chronic-disease qualification, through Chromium against a platform process that
reaches the medical insurance peer, itself a process."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.browser.test_registry_pages import log_in
from tests.conftest import needs_chromium
from tests.integration.payments.medical_support import (
    CLERK,
    World,
    holder,
    medical_peer,
    medical_server,
    wired,
    world,
)
from tests.support import Account, LiveServer

from sscard.payments.medical import settle_service
from sscard.payments.medical.schemas import BillIn

pytestmark = [needs_chromium, pytest.mark.browser]
__all__ = ["medical_peer", "medical_server", "wired", "world"]


def test_a_clerk_reads_the_split_and_refunds_only_after_confirming(
    page: Any,
    medical_server: LiveServer,
    wired: str,
    world: World,
    make_account: Callable[..., Account],
) -> None:
    who = holder(world)
    id_number, card_number = who.id_number, who.card_number
    body = {"id_number": id_number, "insurance_type": "employee", "personal_balance_fen": 50000}
    assert httpx.post(f"{wired}/control/persons", json=body).status_code == 201
    exam = {"code": "E001", "name": "胸部CT", "item_class": "examination", "amount_fen": 30000}
    bill = {"merchant_code": world.hospital, "visit_kind": "outpatient", "items": [exam]}
    done = settle_service.settle(
        data=BillIn.model_validate({**bill, "card_number": card_number}), actor=CLERK
    )
    assert done.status == "settled"

    log_in(page, medical_server, make_account("admin"), "/payments/medical")
    page.click(f"a:text('{done.number}')")
    page.wait_for_url(re.compile(rf".*/payments/medical/{done.number}$"))
    assert page.locator("#settlement-status").inner_text() == "已结算"
    assert page.locator("#split-pool").inner_text().split()[-1] == "85.00"
    assert page.locator("#split-personal").inner_text().split()[-1] == "215.00"
    assert page.locator("#split-cash").inner_text().split()[-1] == "0.00"
    assert page.locator("#split-total").inner_text().split()[-1] == "300.00"
    assert id_number not in page.content()

    page.fill("#f-reason", "患者取消检查")
    page.click("#do-refund")
    assert page.locator("#field-confirm .field-error").count() == 1
    assert page.input_value("#f-reason") == "患者取消检查"
    assert page.locator("#settlement-status").inner_text() == "已结算"

    page.check("#f-confirm")
    page.click("#do-refund")
    page.wait_for_url(re.compile(rf".*/payments/medical/{done.number}$"))
    assert "已全部退回" in page.locator("#flash").inner_text()
    assert page.locator("#settlement-status").inner_text() == "已退费"
    assert "北京时间" in page.locator("#refunded-at").inner_text()
    assert page.locator("#refund-form").count() == 0
    found = httpx.get(f"{wired}/medical/settlements/{done.number}").json()
    assert found["status"] == "cancelled"


def test_a_clerk_registers_a_chronic_qualification_after_fixing_the_dates_and_revokes_it(
    page: Any,
    medical_server: LiveServer,
    wired: str,
    world: World,
    make_account: Callable[..., Account],
) -> None:
    id_number = holder(world).id_number
    body = {"id_number": id_number, "insurance_type": "resident"}
    assert httpx.post(f"{wired}/control/persons", json=body).status_code == 201
    log_in(page, medical_server, make_account("admin"), "/payments/medical/chronic")
    page.fill("#f-id_number", id_number)
    page.fill("#f-disease_code", "I10")
    page.fill("#f-disease_name", "高血压")
    page.fill("#f-valid_from", "2026-06-01")
    page.fill("#f-valid_to", "2026-01-01")
    page.click("#approve")
    assert page.locator("#form-alert").count() == 1
    assert page.input_value("#f-disease_name") == "高血压"

    page.fill("#f-id_number", id_number)
    page.fill("#f-valid_to", "2027-05-31")
    page.click("#approve")
    page.wait_for_url(re.compile(r".*/payments/medical/chronic$"))
    assert "已登记" in page.locator("#flash").inner_text()
    row = page.locator("#chronic-list tr", has_text="高血压")
    assert "有效" in row.inner_text() and id_number not in page.content()
    query = httpx.post(f"{wired}/medical/persons/query", json={"id_number": id_number}).json()
    assert query["chronic"][0]["disease_code"] == "I10"

    row.locator("button.danger").click()
    assert "已撤销" in page.locator("#flash").inner_text()
    assert "已撤销" in page.locator("#chronic-list tr", has_text="高血压").inner_text()
