"""An administrator works with orders through Chromium, at phone and desktop sizes: finds
the merchant's orders, exports them, refunds part of a paid one after the confirmation page
(refused first for asking more than was paid) and closes an unpaid one. The bank peer and
the platform run as their own processes."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.browser.test_payments_pages import SIZES
from tests.browser.test_registry_pages import log_in
from tests.conftest import needs_chromium
from tests.e2e.test_instant_e2e import _start_peer
from tests.integration.payments.orders_support import (  # noqa: F401
    CLERK,
    Bank,
    active_card,
    new_merchant,
    pay_numbers,
)
from tests.support import Account, LiveServer, start_server, stop_server

from sscard import db
from sscard.payments.orders import service
from sscard.settings import reset_settings

pytestmark = [needs_chromium, pytest.mark.browser, pytest.mark.usefixtures("pay_numbers")]


@pytest.fixture(scope="module")
def paying_server(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, Bank]]:
    logs = tmp_path_factory.mktemp("order-pages")
    bank = _start_peer("bank", logs / "bank.log")
    env = {"SSCARD_BANK_URLS": json.dumps({"*": bank.url})}
    saved = os.environ.get("SSCARD_BANK_URLS")
    os.environ.update(env)
    reset_settings()
    server = start_server(logs / "server.log", extra_env=env)
    yield server, Bank(bank.url)
    stop_server(server)
    bank.process.terminate()
    bank.process.wait(timeout=15)
    if saved is None:
        os.environ.pop("SSCARD_BANK_URLS", None)
    else:
        os.environ["SSCARD_BANK_URLS"] = saved
    reset_settings()


@pytest.fixture(params=sorted(SIZES))
def screen(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        locale="zh-CN", viewport=SIZES[request.param], accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def _orders(bank: Bank) -> tuple[str, str, str]:
    """A merchant with a paid order of 25.80 yuan and an unpaid one."""
    card = active_card()
    bank.fund(card, 10_000)
    merchant = new_merchant()
    made = []
    with db.transaction() as session:
        for number, amount in (("PAGE-1", 2580), ("PAGE-2", 990)):
            made.append(
                service.create_order(
                    session,
                    actor=CLERK,
                    merchant_code=merchant,
                    merchant_order_no=number,
                    amount_fen=amount,
                    category="medicine",
                    channel="counter",
                ).order_no
            )
    paid = service.pay_by_card(order_no=made[0], card_id=card.card_id, channel="card", actor=CLERK)
    assert paid.status == "paid"
    return merchant, made[0], made[1]


def test_an_administrator_finds_exports_refunds_and_closes_orders(
    screen: Any,
    paying_server: tuple[LiveServer, Bank],
    make_account: Callable[..., Account],
) -> None:
    server, bank = paying_server
    page = screen
    merchant, paid, unpaid = _orders(bank)
    log_in(page, server, make_account("admin"), "/payments/orders")

    page.fill("#f-merchant", merchant)
    page.click("#filter")
    rows = page.locator("#order-list tbody tr")
    assert rows.count() == 2
    paid_row = page.locator("#order-list tr", has_text=paid)
    assert "已支付" in paid_row.inner_text() and "25.80" in paid_row.inner_text()
    assert "*" in paid_row.inner_text()  # the card number masked
    assert "北京时间" in page.locator("#order-list thead").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]

    with page.expect_download() as download:
        page.click("#export-orders-csv")
    text = open(download.value.path(), encoding="utf-8-sig").read()  # noqa: PTH123, SIM115
    exported = list(csv.reader(io.StringIO(text)))
    assert exported[0][0] == "订单号" and {r[0] for r in exported[1:]} == {paid, unpaid}

    page.select_option("#f-status", "paid")
    page.click("#filter")
    assert page.locator("#order-list tbody tr").count() == 1

    page.click(f"text={paid}")
    page.wait_for_url(re.compile(rf".*/payments/orders/{paid}$"))
    page.fill("#f-amount", "30.00")
    page.fill("#f-reason", "退一盒")
    page.click("#start-refund")
    assert "可退金额 25.80 元" in page.locator("#field-amount .field-error").inner_text()
    assert page.input_value("#f-reason") == "退一盒"
    page.fill("#f-amount", "5.80")
    page.click("#start-refund")
    assert page.locator("#confirm-amount").inner_text() == "5.80"
    page.click("#confirm-refund")
    page.wait_for_url(re.compile(rf".*/payments/orders/{paid}$"))
    assert page.locator("#order-status").inner_text() == "部分退款"
    assert "已退款" in page.locator("#refund-list").inner_text()
    assert page.locator("#order-refunded").inner_text() == "5.80 元"

    page.goto(f"{server.url}/payments/orders/{unpaid}")
    page.click("#do-close")
    assert page.locator("#flash").inner_text() == "订单已关闭"
    assert page.locator("#order-status").inner_text() == "已关闭"
