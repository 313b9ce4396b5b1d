import pytest
from sqlalchemy.orm import Session
from tests.integration.payments.test_merchants import CITY, body, institution  # noqa: F401

from sscard.errors import ValidationFailed
from sscard.payments.codes import emv
from sscard.payments.merchants import qr_service, service
from sscard.payments.merchants.errors import MerchantStatusConflict


def test_a_merchants_static_code_names_it_and_leaves_the_amount_to_the_payer(
    session: Session,
    institution: str,  # noqa: F811
) -> None:
    merchant = service.create_merchant(session, data=body(institution), actor=CITY)
    shown = qr_service.merchant_qr(session, merchant_id=merchant.id, actor=CITY)
    code = emv.parse(shown.payload)
    assert not shown.dynamic and shown.amount_fen is None and code.amount_fen is None
    assert code.accounts[0].fields == (("01", merchant.code),)
    assert (code.mcc, code.name, code.city, code.currency) == ("5912", merchant.name, "济宁", "156")


def test_a_dynamic_code_carries_the_bill_in_fen_and_refuses_a_bad_amount_by_field(
    session: Session,
    institution: str,  # noqa: F811
) -> None:
    merchant = service.create_merchant(session, data=body(institution), actor=CITY)
    shown = qr_service.merchant_qr(
        session, merchant_id=merchant.id, actor=CITY, amount="12.3", bill_number="B0001"
    )
    code = emv.parse(shown.payload)
    assert shown.dynamic and (code.amount_fen, code.bill_number) == (1230, "B0001")
    for amount in ("12.345", "-1", "0", "100000.01", "十元"):
        with pytest.raises(ValidationFailed) as refused:
            qr_service.merchant_qr(session, merchant_id=merchant.id, actor=CITY, amount=amount)
        assert refused.value.fields[0].field == "amount"
    with pytest.raises(ValidationFailed, match="bill_number"):
        qr_service.merchant_qr(session, merchant_id=merchant.id, actor=CITY, bill_number="B1")


def test_a_suspended_merchant_shows_no_collection_code(
    session: Session,
    institution: str,  # noqa: F811
) -> None:
    merchant = service.create_merchant(session, data=body(institution), actor=CITY)
    service.suspend_merchant(session, merchant_id=merchant.id, actor=CITY)
    with pytest.raises(MerchantStatusConflict, match="不能收款"):
        qr_service.merchant_qr(session, merchant_id=merchant.id, actor=CITY)
