import secrets

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from sscard.errors import ValidationFailed
from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType
from sscard.iam.schemas import InstitutionCreate
from sscard.kit.context import Actor, ActorKind
from sscard.payments.merchants import sealing, service
from sscard.payments.merchants.errors import (
    MerchantExists,
    MerchantNotFound,
    MerchantStatusConflict,
)
from sscard.payments.merchants.schemas import MerchantCreate, MerchantUpdate, StatusFilter

ACCOUNT = "6217001234567890123"


def operator(region: str) -> Actor:
    return Actor(
        kind=ActorKind.operator,
        id=f"op{region}",
        name="商户经办",
        region_code=region,
        permissions=frozenset({"payments.merchants.read", "payments.merchants.manage"}),
    )


CITY = operator("370800")
DISTRICT = operator("370811")  # 任城区
OTHER_DISTRICT = operator("370812")  # 兖州区


@pytest.fixture
def institution(session: Session) -> str:
    code = f"MI{secrets.token_hex(3).upper()}"
    iam_service.create_institution(
        session,
        data=InstitutionCreate(
            code=code, name="收单机构", type=InstitutionType.merchant, region_code="370811"
        ),
    )
    return code


def body(institution: str, **changes: object) -> MerchantCreate:
    values: dict[str, object] = {
        "code": f"m{secrets.token_hex(4)}",
        "name": "仁和大药房任城店",
        "mcc": "5912",
        "institution_code": institution,
        "settlement_bank": "中国工商银行济宁分行",
        "settlement_account": ACCOUNT,
        "fee_rate_bp": 38,
    }
    values.update(changes)
    return MerchantCreate.model_validate(values)


def test_a_merchant_is_signed_up_active_with_its_account_sealed_and_shown_masked(
    session: Session, institution: str
) -> None:
    merchant = service.create_merchant(session, data=body(institution), actor=DISTRICT)
    out = service.merchant_out(merchant)
    assert out.code == merchant.code and out.code.isupper()
    assert (out.status, out.status_name, out.mcc_name) == ("active", "正常", "药店")
    assert out.region_code == "370811"  # the institution's region
    assert out.settlement_account == "621700*********0123"
    stored = session.execute(
        text("SELECT settlement_account_enc FROM payments_merchant WHERE id = :id"),
        {"id": merchant.id},
    ).scalar_one()
    assert ACCOUNT.encode() not in stored
    assert sealing.reveal_account(merchant, session) == ACCOUNT


def test_a_second_merchant_with_the_same_code_is_refused(
    session: Session, institution: str
) -> None:
    first = service.create_merchant(session, data=body(institution), actor=CITY)
    with pytest.raises(MerchantExists) as refused:
        service.create_merchant(session, data=body(institution, code=first.code), actor=CITY)
    assert refused.value.fields[0].field == "code"


def test_an_unknown_mcc_and_an_unknown_institution_are_named_together(
    session: Session,
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        service.create_merchant(session, data=body("NO-SUCH", mcc="0001"), actor=CITY)
    assert {p.field for p in refused.value.fields} == {"mcc", "institution_code"}


def test_a_district_operator_cannot_sign_up_a_merchant_in_another_district(
    session: Session, institution: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        service.create_merchant(
            session, data=body(institution, region_code="370812"), actor=DISTRICT
        )
    assert refused.value.fields[0].field == "region_code"


def test_merchants_of_another_district_are_neither_listed_nor_found(
    session: Session, institution: str
) -> None:
    merchant = service.create_merchant(session, data=body(institution), actor=CITY)
    found, _ = service.list_merchants(session, actor=OTHER_DISTRICT, name=merchant.name)
    assert merchant not in found
    with pytest.raises(MerchantNotFound):
        service.get_merchant(session, merchant_id=merchant.id, actor=OTHER_DISTRICT)
    with pytest.raises(MerchantNotFound):
        service.suspend_merchant(session, merchant_id=merchant.id, actor=OTHER_DISTRICT)
    assert service.get_merchant_by_code(session, code=merchant.code.lower(), actor=DISTRICT)


def test_a_merchant_is_suspended_reopened_closed_and_reopened_and_nothing_else(
    session: Session, institution: str
) -> None:
    merchant = service.create_merchant(session, data=body(institution), actor=CITY)
    ref = {"merchant_id": merchant.id, "actor": CITY}
    assert service.suspend_merchant(session, **ref).status == "suspended"
    with pytest.raises(MerchantStatusConflict, match="暂停"):
        service.suspend_merchant(session, **ref)
    assert service.reopen_merchant(session, **ref).status == "active"
    with pytest.raises(MerchantStatusConflict, match="恢复"):
        service.reopen_merchant(session, **ref)
    assert service.close_merchant(session, **ref).status == "closed"
    with pytest.raises(MerchantStatusConflict, match="已关闭"):
        service.close_merchant(session, **ref)
    assert service.reopen_merchant(session, **ref).status == "active"


def test_the_list_filters_by_status_mcc_institution_and_name_or_takes_every_status(
    session: Session, institution: str
) -> None:
    tag = secrets.token_hex(3)
    pharmacy = service.create_merchant(
        session, data=body(institution, name=f"药房{tag}"), actor=CITY
    )
    hospital = service.create_merchant(
        session, data=body(institution, name=f"医院{tag}", mcc="8062"), actor=CITY
    )
    service.suspend_merchant(session, merchant_id=hospital.id, actor=CITY)

    def codes(**filters: object) -> set[str]:
        found, total = service.list_merchants(session, actor=CITY, name=tag, **filters)  # type: ignore[arg-type]
        assert total == len(found)
        return {m.code for m in found}

    assert codes() == {pharmacy.code, hospital.code}
    assert codes(status=StatusFilter.all) == {pharmacy.code, hospital.code}
    assert codes(status=StatusFilter.active) == {pharmacy.code}
    assert codes(status=StatusFilter.suspended) == {hospital.code}
    assert codes(status=StatusFilter.closed) == set()
    assert codes(mcc="8062") == {hospital.code}
    assert codes(institution_code=institution) == {pharmacy.code, hospital.code}
    assert codes(institution_code="ELSEWHERE") == set()


def test_an_update_changes_the_fee_and_reseals_a_new_account(
    session: Session, institution: str
) -> None:
    merchant = service.create_merchant(session, data=body(institution), actor=CITY)
    changed = service.update_merchant(
        session,
        merchant_id=merchant.id,
        data=MerchantUpdate(fee_rate_bp=60, settlement_account="6222020200112233445"),
        actor=CITY,
    )
    assert changed.fee_rate_bp == 60 and changed.name == "仁和大药房任城店"
    assert service.merchant_out(changed).settlement_account == "622202*********3445"
    assert sealing.reveal_account(changed, session) == "6222020200112233445"
    with pytest.raises(ValidationFailed, match="mcc"):
        service.update_merchant(
            session, merchant_id=merchant.id, data=MerchantUpdate(mcc="0002"), actor=CITY
        )
