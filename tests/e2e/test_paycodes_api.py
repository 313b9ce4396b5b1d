"""Payment codes and merchant QR payments over real HTTP, paid at the bank peer (its own
process): a terminal charges a resident's code once, the acquirer charges with its
permission, limits and refusals come back named, and the wallet pays a merchant's bill
once however often it is sent."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from tests.e2e.paycodes_world import CITY, ECARD_PIN, Bank, Payer, bank_peer, fund, payer, shop
from tests.e2e.test_ecard_online_support import error_of, report_loss
from tests.e2e.test_payments_pages import institution
from tests.support import Account, login

from sscard import db
from sscard.kit.context import SYSTEM, acting
from sscard.payments.merchants import qr_service

ISSUE = "/api/v1/payments/paycodes"
CHARGE = "/api/v1/payments/paycodes/charge"
PREVIEW = "/api/v1/payments/merchant-qr/preview"
PAY = "/api/v1/payments/merchant-qr/pay"


@pytest.fixture(scope="module")
def bank(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    yield from bank_peer(tmp_path_factory.mktemp("paycodes"))


def _code(bank: Bank, who: Payer) -> str:
    with bank.server.client(who.resident.token) as http:
        issued = http.post(ISSUE)
    assert issued.status_code == 200, issued.text
    body: dict[str, Any] = issued.json()
    assert body["grouped"].replace(" ", "") == body["code"]
    return str(body["code"])


def _charge(bank: Bank, token: str, **body: Any) -> httpx.Response:
    with bank.server.client(token) as http:
        return http.post(CHARGE, json=body)


def _order() -> str:
    return f"SO{secrets.token_hex(6)}"


def test_a_terminal_charges_a_code_once_and_a_retry_answers_with_the_same_payment(
    bank: Bank,
) -> None:
    who, till = payer(), shop()
    fund(bank, who, 100_000)
    code, number = _code(bank, who), _order()
    body = {
        "merchant_code": till.code,
        "code": code,
        "amount": "12.30",
        "merchant_order_no": number,
    }
    paid = _charge(bank, till.token, **body)
    assert paid.status_code == 200, paid.text
    out = paid.json()
    assert (out["status"], out["status_name"], out["amount_fen"], out["channel"]) == (
        "paid",
        "支付成功",
        1230,
        "paycode",
    )
    assert out["order_no"].startswith("P") and len(out["order_no"]) == 20
    again = _charge(bank, till.token, **body)
    assert again.status_code == 200 and again.json()["order_no"] == out["order_no"]
    replay = _charge(bank, till.token, **{**body, "merchant_order_no": _order()})
    error_of(replay, 409, "code_used")


def test_a_terminal_charges_only_for_its_own_merchant_and_an_operator_needs_the_permission(
    bank: Bank, make_account: Callable[..., Account]
) -> None:
    who, till, other = payer(), shop(), shop()
    fund(bank, who, 100_000)
    code = _code(bank, who)
    body = {
        "merchant_code": other.code,
        "code": code,
        "amount_fen": 500,
        "merchant_order_no": _order(),
    }
    error_of(_charge(bank, till.token, **body), 403, "terminal_not_for_merchant")
    auditor = login(bank.server, make_account("auditor"))
    error_of(_charge(bank, auditor, **body), 403, "permission_denied")
    elsewhere = login(bank.server, make_account("clerk", institution=institution("370812")))
    error_of(_charge(bank, elsewhere, **body), 404, "merchant_not_found")
    error_of(_charge(bank, who.resident.token, **body), 403, "permission_denied")
    assert _charge(bank, other.token, **body).json()["status"] == "paid"
    acquirer = login(bank.server, make_account("clerk"))
    again = {**body, "code": _code(bank, who), "merchant_order_no": _order()}
    assert _charge(bank, acquirer, **again).json()["status"] == "paid"


def test_refusals_name_the_field_or_the_reason(bank: Bank) -> None:
    who, till = payer(), shop()
    fund(bank, who, 10_000_000)
    code = _code(bank, who)
    base = {"merchant_code": till.code, "code": code, "merchant_order_no": _order()}
    both = error_of(
        _charge(bank, till.token, **base, amount="1.00", amount_fen=100), 422, "validation_failed"
    )
    assert both["fields"][0]["field"] == "amount"
    bad = error_of(
        _charge(bank, till.token, **{**base, "code": code[:-1] + "x"}, amount_fen=100),
        422,
        "validation_failed",
    )
    assert bad["fields"][0]["field"] == "code"
    pin = error_of(_charge(bank, till.token, **base, amount="600.00"), 422, "validation_failed")
    assert pin["fields"][0]["field"] == "pin" and "500.00" in pin["detail"]
    wrong = error_of(
        _charge(bank, till.token, **base, amount="600.00", pin="000000"), 422, "pin_incorrect"
    )
    assert wrong["fields"][0]["field"] == "pin"
    right = _charge(bank, till.token, **base, amount="600.00", pin=ECARD_PIN)
    assert right.json()["status"] == "paid", right.text
    limit = _charge(
        bank,
        till.token,
        **{**base, "code": _code(bank, who), "merchant_order_no": _order()},
        amount="4500.00",
        pin=ECARD_PIN,
    )
    assert "今日还可付 4400.00 元" in error_of(limit, 409, "day_limit_reached")["detail"]
    before_loss = _code(bank, who)
    report_loss(who.resident)
    lost = _charge(
        bank,
        till.token,
        **{**base, "code": before_loss, "merchant_order_no": _order()},
        amount="1.00",
    )
    assert "挂失" in error_of(lost, 409, "card_not_usable")["detail"]
    with bank.server.client(who.resident.token) as http:
        error_of(http.post(ISSUE), 409, "card_not_usable")


def test_the_wallet_pays_a_bill_once_however_often_it_is_sent(bank: Bank) -> None:
    who, till = payer(), shop(mcc="8062", name="济宁市第一人民医院")
    fund(bank, who, 100_000)
    with acting(SYSTEM), db.transaction() as session:
        payload = qr_service.merchant_qr(
            session, merchant_id=till.merchant_id, actor=CITY, amount="86.50", bill_number="MZ001"
        ).payload
    with bank.server.client(who.resident.token) as http:
        shown = http.post(PREVIEW, json={"payload": payload}).json()
        assert (shown["merchant_name"], shown["mcc_name"], shown["amount"]) == (
            "济宁市第一人民医院",
            "医院",
            "86.50",
        )
        first = http.post(PAY, json={"payload": payload, "pin": ECARD_PIN})
        assert first.status_code == 200 and first.json()["status"] == "paid", first.text
        again = http.post(PAY, json={"payload": payload, "pin": ECARD_PIN})
        assert again.json()["order_no"] == first.json()["order_no"]
        assert first.json()["merchant_order_no"] == "MZ001"
    with bank.server.client(till.token) as terminal:
        error_of(terminal.post(PREVIEW, json={"payload": payload}), 401, "resident_required")
