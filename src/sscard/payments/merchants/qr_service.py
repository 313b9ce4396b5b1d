"""A merchant's collection code (收款码): the EMVCo merchant-presented QR built from the
merchant register, static or for one bill."""

from __future__ import annotations

from typing import Final

from sqlalchemy.orm import Session

from sscard.errors import FieldProblem, ValidationFailed
from sscard.kit.context import Actor
from sscard.payments.codes import emv, money
from sscard.payments.codes.errors import CodeRefused
from sscard.payments.merchants import service
from sscard.payments.merchants.errors import MerchantStatusConflict
from sscard.payments.merchants.schemas import STATUS_NAMES, MerchantQrOut, MerchantStatus
from sscard.settings import get_settings

SCHEME_ID: Final = "cn.sscard.pay"
"""Sub-tag 00 of the platform's merchant account template (tag 26); sub-tag 01 is the
merchant code."""
QR_LIMIT_FEN: Final = 100_000_00
"""The most one dynamic code may ask for: 100,000.00 yuan."""


def _amount(text: str | None) -> int | None:
    if not text:
        return None
    try:
        fen = money.yuan_to_fen(text, limit=QR_LIMIT_FEN)
    except CodeRefused as exc:
        raise ValidationFailed([FieldProblem("amount", exc.detail)]) from exc
    if fen == 0:
        raise ValidationFailed([FieldProblem("amount", "金额须大于零")])
    return fen


def merchant_qr(
    session: Session,
    *,
    merchant_id: int,
    actor: Actor,
    amount: str | None = None,
    bill_number: str | None = None,
) -> MerchantQrOut:
    """The QR payload an active merchant shows: for ``amount`` yuan when given (dynamic)."""
    fen = _amount(amount)
    if bill_number and fen is None:
        raise ValidationFailed(
            [FieldProblem("bill_number", "账单号只用于带金额的收款码，请同时填写金额")]
        )
    merchant = service.get_merchant(session, merchant_id=merchant_id, actor=actor)
    if merchant.status != MerchantStatus.active:
        now = STATUS_NAMES[MerchantStatus(merchant.status)]
        raise MerchantStatusConflict(f"商户 {merchant.code} 当前状态为“{now}”，不能收款")
    code = emv.MerchantQr(
        accounts=(emv.MerchantAccount(26, SCHEME_ID, (("01", merchant.code),)),),
        mcc=merchant.mcc,
        name=merchant.name[: emv.NAME_MAX],
        city=get_settings().region_name.removesuffix("市")[: emv.CITY_MAX] or "CN",
        amount_fen=fen,
        bill_number=bill_number or None,
    )
    return MerchantQrOut(payload=emv.build(code), dynamic=code.dynamic, amount_fen=fen)
