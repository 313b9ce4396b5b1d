"""The wallet's pay screens in Chromium at a phone's size: the payment code read back from
the page's pixels (zxing-cpp) and charged by a till, renewed by the page's script; a
merchant's collection code pasted, confirmed with the e-card PIN and paid; a wrong PIN
named beside its field; no code while the card is lost."""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.browser.test_wallet_self_service import fits, log_in
from tests.conftest import needs_chromium
from tests.e2e.paycodes_world import CITY, ECARD_PIN, Bank, Payer, bank_peer, fund, payer, shop
from tests.e2e.test_ecard_online_support import report_loss

from sscard import db
from sscard.kit.context import SYSTEM, acting
from sscard.payments.merchants import qr_service

pytestmark = [needs_chromium, pytest.mark.browser]

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def bank(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    # Codes live 20 seconds here, so that the page's own renewal is seen soon.
    yield from bank_peer(tmp_path_factory.mktemp("wallet-pay"), SSCARD_PAY_CODE_TTL_SECONDS="20")


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def _open_wallet(phone: Any, bank: Bank, who: Payer) -> None:
    holder = SimpleNamespace(id_number=who.resident.id_number, channel=who.channel)
    log_in(phone, bank.server, holder)  # type: ignore[arg-type]
    phone.wait_for_url(f"{bank.server.url}/wallet")


def _code_on(phone: Any) -> str:
    """The payment code in the QR the page shows, read from its pixels."""
    import zxingcpp
    from PIL import Image

    shot = Image.open(io.BytesIO(phone.locator("#pay-qr").screenshot()))
    found = [r.text for r in zxingcpp.read_barcodes(shot)]
    assert found == [phone.inner_text("#pay-digits").replace(" ", "")]
    return found[0]


def test_the_payment_code_is_read_from_the_screen_charged_once_and_renewed(
    phone: Any, bank: Bank
) -> None:
    who, till = payer(), shop()
    fund(bank, who, 100_000)
    _open_wallet(phone, bank, who)
    phone.click("#menu-paycode")
    phone.wait_for_url(f"{bank.server.url}/wallet/pay/code")
    code = _code_on(phone)
    assert len(code) == 19 and code.startswith("62")
    assert fits(phone)
    body = {"merchant_code": till.code, "code": code, "amount": "8.80", "merchant_order_no": "T1"}
    with bank.server.client(till.token) as http:
        paid = http.post("/api/v1/payments/paycodes/charge", json=body)
    assert paid.status_code == 200 and paid.json()["status"] == "paid", paid.text
    phone.click("#pay-reload")
    phone.wait_for_load_state()
    assert _code_on(phone) != code
    phone.wait_for_function(
        "code => document.getElementById('pay-digits').textContent.replace(/ /g, '') !== code",
        arg=_code_on(phone),
        timeout=40000,
    )
    _code_on(phone)


def test_a_merchant_code_pasted_is_confirmed_with_the_pin_and_paid(phone: Any, bank: Bank) -> None:
    who, till = payer(), shop(mcc="8062", name="济宁市第一人民医院")
    fund(bank, who, 100_000)
    bill = f"MZ{secrets.token_hex(4).upper()}"
    with acting(SYSTEM), db.transaction() as session:
        payload = qr_service.merchant_qr(
            session, merchant_id=till.merchant_id, actor=CITY, amount="35.00", bill_number=bill
        ).payload
    _open_wallet(phone, bank, who)
    phone.click("#menu-payscan")
    phone.wait_for_url(f"{bank.server.url}/wallet/pay/scan")
    phone.fill("#s-text", payload)
    phone.click("#scan-submit")
    phone.wait_for_selector("#pay-confirm")
    assert phone.inner_text("#pay-merchant") == "济宁市第一人民医院"
    assert phone.inner_text("#pay-amount") == "¥ 35.00"
    assert fits(phone)
    phone.fill("#p-pin", "000000")
    phone.click("#pay-submit")
    phone.wait_for_selector("#p-pin-error")
    assert "密码错误" in phone.inner_text("#p-pin-error")
    phone.fill("#p-pin", ECARD_PIN)
    phone.click("#pay-submit")
    phone.wait_for_selector("#pay-result")
    assert phone.inner_text("#pay-status") == "支付成功"
    assert phone.inner_text("#pay-order").startswith("P")
    assert phone.inner_text("#pay-time").endswith("北京时间")
    assert fits(phone)


def test_a_lost_card_shows_no_payment_code(phone: Any, bank: Bank) -> None:
    who = payer()
    report_loss(who.resident)
    _open_wallet(phone, bank, who)
    phone.goto(f"{bank.server.url}/wallet/pay/code")
    assert "挂失" in phone.inner_text("#pay-banner")
    assert phone.locator("#pay-qr").count() == 0
