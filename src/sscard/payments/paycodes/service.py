"""Payment codes (付款码, 被扫): issue one for a resident's live e-card, and let a merchant
claim it once for one payment.

Design overview
---------------
- A code is 19 digits (:mod:`sscard.payments.codes.paycode`) whose reference names a row of
  ``payments_paycode`` (its id modulo 10**6) issued in the same 10-second tick. The row
  says whose card pays and how much may be paid without the PIN. Issuing a code
  supersedes the person's previous ones, so at most one code of a person is live.
- A charge reads the code (check digits, age), finds its row, checks the card, the PIN
  above the no-PIN limit (a wrong PIN counts against the e-card PIN like any other) and
  the card's limit for the Beijing day, then claims the row with a conditional UPDATE:
  of two merchants presenting the same code at once exactly one gets it. The claim, the
  card charge row and the order are one transaction; the bank is called after it commits
  (:mod:`sscard.payments.paycodes.pay_service`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.ecard import service as ecard_service
from sscard.ecard.errors import ECardNotFound, EcardPinIncorrect
from sscard.errors import FieldProblem, SSCardError, ValidationFailed
from sscard.issuance.cards import service as issuance_service
from sscard.kit import access
from sscard.payments.codes import money
from sscard.payments.codes.errors import CodeRefused
from sscard.payments.codes.paycode import PRODUCTS, Paycode
from sscard.payments.paycodes import keys, repository, rules
from sscard.payments.paycodes.errors import (
    CardNotUsable,
    CodeExpired,
    CodeUsed,
    DayLimitReached,
)
from sscard.payments.paycodes.models import CardCharge, PaymentCode
from sscard.payments.paycodes.schemas import PaycodeOut
from sscard.settings import get_settings

if TYPE_CHECKING:
    from sscard.ecard.models import ECard

PRODUCT = "01"
"""社保卡账户支付: the card's account at its service bank pays."""
CHARGE_LIMIT_FEN = 100_000_00
"""The most one charge may be: 100,000.00 yuan (the merchant QR's limit too)."""
CARD_REASONS = {
    "temporarily_lost": "社会保障卡已临时挂失，不能支付；解除挂失后可继续使用",
    "lost": "社会保障卡已正式挂失，不能支付",
    "cancelled": "社会保障卡已注销，不能支付",
}


class PinIncorrect(SSCardError):
    status_code = 422
    code = "pin_incorrect"


@dataclass(frozen=True, slots=True)
class Payer:
    """Who pays a charge: the card, its holder and the e-card whose PIN guards it."""

    card_id: str
    person_id: str
    ecard: ECard


# ---- issuing -------------------------------------------------------------------------


def _record(session: Session, action: str, person_id: str, detail: dict[str, object]) -> None:
    access.record(
        session,
        access.AccessRecord(
            action=f"payments.paycode.{action}",
            subject_type="person",
            subject_id=person_id,
            detail=detail,
        ),
    )


def live_ecard(session: Session, *, person_id: str) -> ECard:
    """The person's e-card if it may pay now, else CardNotUsable naming why."""
    try:
        ecard = ecard_service.get_ecard_of_person(session, person_id=person_id)
    except ECardNotFound as exc:
        raise CardNotUsable("没有可用的电子社保卡，不能付款") from exc
    _check_card(session, ecard)
    return ecard


def _check_card(session: Session, ecard: ECard) -> None:
    status = issuance_service.card_by_id(session, card_id=ecard.card_id).status
    if status in CARD_REASONS:
        raise CardNotUsable(CARD_REASONS[status])
    if status != "active" or ecard.status != "active":
        raise CardNotUsable("电子社保卡当前不能使用，不能支付")


def issue_paycode(session: Session, *, person_id: str) -> PaycodeOut:
    """A fresh payment code for the person's live e-card; earlier codes stop working."""
    ecard = live_ecard(session, person_id=person_id)
    settings = get_settings()
    now = time.time()
    repository.supersede_live(session, person_id=person_id)
    row = PaymentCode(
        slot=0,
        tick=int(now) // 10,
        product=PRODUCT,
        person_id=person_id,
        ecard_id=ecard.id,
        card_id=ecard.card_id,
        status="live",
        no_pin_limit_fen=settings.pay_no_pin_limit_fen,
        issued_at=datetime.fromtimestamp(now, UTC),
        expires_at=datetime.fromtimestamp(now + settings.pay_code_ttl_seconds, UTC),
    )
    repository.add(session, row)
    row.slot = row.id % 10**6
    code = keys.codec(session, clock=lambda: now).issue(product=PRODUCT, reference=row.slot)
    _record(session, "issue", person_id, {"paycode": row.id})
    return PaycodeOut(
        code=code,
        grouped=rules.grouped(code),
        product_name=PRODUCTS[PRODUCT],
        expires_at=row.expires_at,
        ttl_seconds=settings.pay_code_ttl_seconds,
        no_pin_limit_fen=row.no_pin_limit_fen,
    )


# ---- charging ------------------------------------------------------------------------


def amount_of(amount_fen: int | None, amount: str | None) -> int:
    """The amount in fen from exactly one of ``amount_fen`` and ``amount`` (yuan text)."""
    if (amount_fen is None) == (amount is None or amount == ""):
        reason = "请填写金额：amount_fen（分）或 amount（元）二选一"
        raise ValidationFailed([FieldProblem("amount", reason)], reason)
    try:
        fen = (
            money.check_fen(amount_fen, limit=CHARGE_LIMIT_FEN)
            if amount_fen is not None
            else money.yuan_to_fen(amount, limit=CHARGE_LIMIT_FEN)
        )
    except CodeRefused as exc:
        name = "amount_fen" if amount_fen is not None else "amount"
        raise ValidationFailed([FieldProblem(name, exc.detail)], exc.detail) from exc
    if fen == 0:
        raise ValidationFailed([FieldProblem("amount", "金额须大于零")], "金额须大于零")
    return fen


def _read(session: Session, text: str) -> Paycode:
    try:
        return keys.codec(session).read(text)
    except CodeRefused as exc:
        if exc.reason == "code_expired":
            raise CodeExpired(exc.detail) from exc
        raise ValidationFailed([FieldProblem("code", exc.detail)], exc.detail) from exc


def _live_row(session: Session, text: str) -> PaymentCode:
    read = _read(session, text)
    row = repository.code_in_slot(
        session, slot=read.reference, tick=read.issued_at // 10, product=read.product
    )
    if row is None:
        reason = "付款码无效，请让付款人刷新后重新出示"
        raise ValidationFailed([FieldProblem("code", reason)], reason)
    if row.status != "live":
        raise CodeUsed("付款码已使用或已刷新，请让付款人出示新的付款码")
    if row.expires_at <= utcnow():
        raise CodeExpired("付款码已过期，请让付款人刷新后重新出示")
    return row


def check_pin(session: Session, *, ecard: ECard, pin: str | None, reason: str) -> None:
    """The e-card PIN, asked for with ``reason``; a wrong one counts against the e-card."""
    if not pin:
        raise ValidationFailed([FieldProblem("pin", reason)], reason)
    try:
        ecard_service.verify_ecard_pin(session, ecard=ecard, pin=pin)
    except EcardPinIncorrect as exc:
        wrong = "电子社保卡密码错误，请付款人重新输入"
        raise PinIncorrect(wrong, fields=[FieldProblem("pin", wrong)]) from exc


def check_day_limit(session: Session, *, card_id: str, amount_fen: int) -> None:
    """Refuse a charge that would take the card past its limit for the Beijing day (the
    card's charges are serialised from here to the end of the transaction, which records
    the charge: concurrent charges cannot both fit under the limit)."""
    limit = get_settings().pay_day_limit_fen
    repository.lock_card_charges(session, card_id=card_id)
    spent = repository.charged_since(session, card_id=card_id, since=rules.day_start(utcnow()))
    if spent + amount_fen > limit:
        left = money.fen_to_yuan(max(0, limit - spent))
        raise DayLimitReached(
            f"超过本卡每日付款限额 {money.fen_to_yuan(limit)} 元（今日还可付 {left} 元）"
        )


def new_charge(
    session: Session,
    *,
    payer: Payer,
    channel: str,
    merchant_code: str,
    merchant_order_no: str,
    amount_fen: int,
    paycode_id: int | None = None,
) -> CardCharge:
    """Record a charge about to be ordered (counted in the day's total from now on)."""
    now = utcnow()
    charge = CardCharge(
        card_id=payer.card_id,
        person_id=payer.person_id,
        channel=channel,
        merchant_code=merchant_code,
        merchant_order_no=merchant_order_no,
        amount_fen=amount_fen,
        paycode_id=paycode_id,
        status="ordered",
        created_at=now,
        updated_at=now,
    )
    repository.add(session, charge)
    detail = {"charge": charge.id, "merchant": merchant_code, "amount_fen": amount_fen}
    _record(session, f"charge.{channel}", payer.person_id, detail)
    return charge


def claim_for_charge(
    session: Session,
    *,
    text: str,
    merchant_code: str,
    merchant_order_no: str,
    amount_fen: int,
    pin: str | None,
) -> CardCharge:
    """Claim a scanned payment code once for a charge, after the card, PIN and day limit."""
    row = _live_row(session, text)
    ecard = ecard_service.get_ecard(session, ecard_id=row.ecard_id)
    if ecard is None:
        raise CardNotUsable("没有可用的电子社保卡，不能付款")
    _check_card(session, ecard)
    if amount_fen > row.no_pin_limit_fen:
        limit = money.fen_to_yuan(row.no_pin_limit_fen)
        check_pin(
            session,
            ecard=ecard,
            pin=pin,
            reason=f"金额超过免密限额 {limit} 元，须输入电子社保卡密码",
        )
    check_day_limit(session, card_id=row.card_id, amount_fen=amount_fen)
    if not repository.claim(session, code_id=row.id, at=utcnow()):
        raise CodeUsed("付款码已使用或已刷新，请让付款人出示新的付款码")
    session.expire(row)
    payer = Payer(card_id=row.card_id, person_id=row.person_id, ecard=ecard)
    return new_charge(
        session,
        payer=payer,
        channel="paycode",
        merchant_code=merchant_code,
        merchant_order_no=merchant_order_no,
        amount_fen=amount_fen,
        paycode_id=row.id,
    )


def existing_charge(
    session: Session, *, merchant_code: str, merchant_order_no: str
) -> CardCharge | None:
    """The charge already made for a merchant's order number, if any."""
    return repository.charge_by_merchant_order(
        session, merchant_code=merchant_code, merchant_order_no=merchant_order_no
    )


def settle_charge(
    session: Session, *, charge_id: int, order_no: str, status: str, reason: str | None = None
) -> None:
    """Note the order of a charge and how the bank answered (failed ones stop counting)."""
    charge = repository.charge(session, charge_id)
    if charge is not None:
        charge.order_no, charge.status, charge.updated_at = order_no, status, utcnow()
        charge.reason = reason[:200] if reason else None


def my_charge(session: Session, *, person_id: str, order_no: str) -> CardCharge | None:
    """One of the person's own charges by its order number (the wallet's result page)."""
    charge = repository.charge_by_order(session, order_no=order_no)
    return charge if charge is not None and charge.person_id == person_id else None
