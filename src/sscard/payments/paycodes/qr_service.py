"""Paying a merchant's QR (主扫) from the wallet: read the EMVCo payload, find the merchant
it names (template 26, ``cn.sscard.pay``), and record a charge after the e-card PIN.

A dynamic code's bill number becomes the merchant order number, so paying one bill twice
is one charge: the second time answers with the first payment.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.payments.codes import emv, money
from sscard.payments.codes.errors import CodeRefused
from sscard.payments.codes.mcc import MCC_NAMES
from sscard.payments.merchants import payee_service
from sscard.payments.merchants.qr_service import SCHEME_ID
from sscard.payments.paycodes import rules, service
from sscard.payments.paycodes.errors import BillPaid, MerchantNotAccepting
from sscard.payments.paycodes.models import CardCharge
from sscard.payments.paycodes.schemas import MerchantQrPayIn, MerchantQrPreview

NOT_OURS = "这不是本平台商户的收款码，请使用该商户支持的支付方式"


@dataclass(frozen=True, slots=True)
class QrCharge:
    """A charge recorded for a merchant QR, or the one recorded before for the same bill."""

    charge: CardCharge
    preview: MerchantQrPreview
    replay: bool


def _parse(payload: str) -> emv.MerchantQr:
    try:
        return emv.parse(payload)
    except CodeRefused as exc:
        reason = f"无法识别收款码：{exc.detail}"
        raise ValidationFailed([FieldProblem("payload", reason)], reason) from exc


def _merchant_code(code: emv.MerchantQr) -> str:
    for account in code.accounts:
        fields = dict(account.fields)
        if account.guid == SCHEME_ID and fields.get("01"):
            return fields["01"]
    raise ValidationFailed([FieldProblem("payload", NOT_OURS)], NOT_OURS)


def preview(session: Session, *, payload: str) -> MerchantQrPreview:
    """Whom the merchant QR pays and how much (None when the payer types the amount)."""
    code = _parse(payload)
    merchant = payee_service.payee(session, code=_merchant_code(code))
    if merchant is None:
        raise ValidationFailed([FieldProblem("payload", NOT_OURS)], NOT_OURS)
    if merchant.status != "active":
        raise MerchantNotAccepting(f"商户“{merchant.name}”暂停收款，请改用其他方式付款")
    return MerchantQrPreview(
        merchant_code=merchant.code,
        merchant_name=merchant.name,
        mcc=merchant.mcc,
        mcc_name=MCC_NAMES.get(merchant.mcc, merchant.mcc),
        dynamic=code.dynamic,
        amount_fen=code.amount_fen,
        amount=None if code.amount_fen is None else money.fen_to_yuan(code.amount_fen),
        bill_number=code.bill_number,
    )


def _amount(shown: MerchantQrPreview, typed: str | None) -> int:
    if shown.amount_fen is None:
        return service.amount_of(None, typed)
    if typed and typed != shown.amount:
        reason = f"此收款码的金额为 {shown.amount} 元，不能修改"
        raise ValidationFailed([FieldProblem("amount", reason)], reason)
    return shown.amount_fen


def _bill(shown: MerchantQrPreview) -> str:
    if shown.dynamic and shown.bill_number:
        return shown.bill_number
    return f"QR{utcnow():%Y%m%d%H%M%S}{secrets.token_hex(4).upper()}"


def _paid_before(
    session: Session, shown: MerchantQrPreview, bill: str, card_id: str, amount_fen: int
) -> CardCharge | None:
    before = service.existing_charge(
        session, merchant_code=shown.merchant_code, merchant_order_no=bill
    )
    if before is None:
        return None
    if before.status == "failed":
        raise BillPaid(f"账单 {bill} 上次付款未成功，请让商户重新生成收款码")
    if before.card_id != card_id or before.amount_fen != amount_fen:
        raise BillPaid(f"账单 {bill} 已经付过款，请向商户确认")
    return before


def charge_merchant_qr(session: Session, *, person_id: str, data: MerchantQrPayIn) -> QrCharge:
    """Record the payer's charge for a merchant QR after the e-card PIN and the day limit."""
    shown = preview(session, payload=data.payload)
    amount_fen = _amount(shown, data.amount)
    ecard = service.live_ecard(session, person_id=person_id)
    bill = _bill(shown)
    before = _paid_before(session, shown, bill, ecard.card_id, amount_fen)
    if before is not None:
        return QrCharge(before, shown, replay=True)
    pin = data.pin.get_secret_value()
    service.check_pin(session, ecard=ecard, pin=pin, reason="请输入电子社保卡密码")
    service.check_day_limit(session, card_id=ecard.card_id, amount_fen=amount_fen)
    payer = service.Payer(card_id=ecard.card_id, person_id=person_id, ecard=ecard)
    charge = service.new_charge(
        session,
        payer=payer,
        channel="merchant_qr",
        merchant_code=shown.merchant_code,
        merchant_order_no=bill,
        amount_fen=amount_fen,
    )
    return QrCharge(charge, shown, replay=False)


def category(session: Session, *, merchant_code: str) -> str:
    """The order category of a merchant's trade."""
    merchant = payee_service.payee(session, code=merchant_code)
    return rules.category(merchant.mcc if merchant else "")


def merchant_name(session: Session, *, merchant_code: str) -> str:
    """The merchant's name as the payer saw it (its code if it is gone)."""
    merchant = payee_service.payee(session, code=merchant_code)
    return merchant.name if merchant else merchant_code
