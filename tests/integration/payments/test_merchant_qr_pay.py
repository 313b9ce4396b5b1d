"""Paying a merchant's QR (主扫) from the wallet: the merchant named by the code, the amount
of a dynamic code or the one typed for a static code, the PIN, one charge per bill."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from tests.integration.payments.holders import ECARD_PIN, Holder, Shop, holder, shop
from tests.integration.payments.test_merchants import CITY

from sscard import db
from sscard.ecard import service as ecard_service
from sscard.errors import SSCardError, ValidationFailed
from sscard.kit.context import SYSTEM, acting
from sscard.payments.codes import emv
from sscard.payments.merchants import qr_service as collection
from sscard.payments.merchants import service as merchants_service
from sscard.payments.paycodes import qr_service as qr_pay
from sscard.payments.paycodes.errors import BillPaid, MerchantNotAccepting
from sscard.payments.paycodes.schemas import MerchantQrPayIn


@pytest.fixture
def payer(engine: Engine) -> Iterator[Holder]:
    ecard_service.forget_states()
    yield holder()
    ecard_service.forget_states()


@pytest.fixture
def merchant(engine: Engine) -> Shop:
    return shop(mcc="8062")


def _payload(merchant: Shop, amount: str | None = None, bill: str | None = None) -> str:
    with acting(SYSTEM), db.transaction() as session:
        return collection.merchant_qr(
            session, merchant_id=merchant.merchant_id, actor=CITY, amount=amount, bill_number=bill
        ).payload


def _pay(person_id: str, payload: str, amount: str | None = None, pin: str = ECARD_PIN):  # type: ignore[no-untyped-def]
    with acting(SYSTEM), db.transaction() as session:
        data = MerchantQrPayIn(payload=payload, amount=amount, pin=SecretStr(pin))
        found = qr_pay.charge_merchant_qr(session, person_id=person_id, data=data)
        return (
            found.charge.id,
            found.charge.merchant_order_no,
            found.charge.amount_fen,
            found.replay,
        )


def test_a_dynamic_code_shows_the_merchant_its_trade_and_the_amount(merchant: Shop) -> None:
    payload = _payload(merchant, amount="86.50", bill="B0001")
    with db.transaction() as session:
        shown = qr_pay.preview(session, payload=payload)
    assert (shown.merchant_code, shown.mcc_name, shown.amount, shown.amount_fen) == (
        merchant.code,
        "医院",
        "86.50",
        8650,
    )
    assert shown.dynamic and shown.bill_number == "B0001"
    with db.transaction() as session:
        static = qr_pay.preview(session, payload=_payload(merchant))
    assert not static.dynamic and static.amount_fen is None


def test_a_bill_paid_twice_is_one_charge(payer: Holder, merchant: Shop) -> None:
    payload = _payload(merchant, amount="12.30", bill="BILL42")
    first = _pay(payer.person_id, payload)
    again = _pay(payer.person_id, payload)
    assert first[1:] == ("BILL42", 1230, False)
    assert again == (first[0], "BILL42", 1230, True)


def test_a_static_code_takes_the_typed_amount_and_refuses_none_or_a_bad_one(
    payer: Holder, merchant: Shop
) -> None:
    payload = _payload(merchant)
    _id, order, fen, _replay = _pay(payer.person_id, payload, amount="5.5")
    assert fen == 550 and order.startswith("QR")
    for typed in (None, "-1", "1.234", "0"):
        with pytest.raises(ValidationFailed) as refused:
            _pay(payer.person_id, payload, amount=typed)
        assert refused.value.fields[0].field == "amount"


def test_a_wrong_pin_an_unknown_scheme_and_a_closed_merchant_are_refused_in_words(
    payer: Holder, merchant: Shop
) -> None:
    payload = _payload(merchant, amount="1.00", bill="B7")
    with pytest.raises(SSCardError) as wrong:
        _pay(payer.person_id, payload, pin="111111")
    assert wrong.value.code == "pin_incorrect"
    other = emv.build(
        emv.MerchantQr(
            accounts=(emv.MerchantAccount(26, "com.example.pay", (("01", "X1"),)),),
            mcc="5411",
            name="别家超市",
            city="济宁",
        )
    )
    with pytest.raises(ValidationFailed) as foreign:
        _pay(payer.person_id, other, amount="1.00")
    assert "不是本平台商户" in foreign.value.message
    with pytest.raises(ValidationFailed):
        _pay(payer.person_id, payload[:-1] + ("1" if payload.endswith("0") else "0"))  # bad CRC
    with acting(SYSTEM), db.transaction() as session:
        merchants_service.suspend_merchant(session, merchant_id=merchant.merchant_id, actor=CITY)
    with pytest.raises(MerchantNotAccepting):
        _pay(payer.person_id, payload)


def test_the_same_bill_cannot_be_paid_by_another_card(payer: Holder, merchant: Shop) -> None:
    payload = _payload(merchant, amount="3.00", bill="SHARED")
    _pay(payer.person_id, payload)
    other = holder()
    with pytest.raises(BillPaid):
        _pay(other.person_id, payload)


def test_bills_paid_at_once_from_one_card_never_pass_its_day_limit(
    engine: Engine, payer: Holder, merchant: Shop
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the concurrency test needs PostgreSQL (SSCARD_TEST_DATABASE_URL)")
    payloads = [_payload(merchant, amount="2000.00", bill=f"LIM{n}") for n in range(4)]
    barrier, results = threading.Barrier(4), []

    def attempt(payload: str) -> None:
        barrier.wait()
        try:
            _pay(payer.person_id, payload)
            results.append("charged")
        except SSCardError as refused:
            results.append(refused.code)

    threads = [threading.Thread(target=attempt, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 5,000.00 yuan a day: two bills of 2,000.00 fit, the third would not
    assert sorted(results) == ["charged"] * 2 + ["day_limit_reached"] * 2, results
