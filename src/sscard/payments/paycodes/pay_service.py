"""From a charge to money moved: the card order is created in the charge's transaction
(``orders.service.create_order``); the bank is asked only after that commits
(``orders.service.pay_by_card`` runs its own transactions), and its answer is noted on the
charge so that a refused payment stops counting in the day's total."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from sscard import db
from sscard.errors import FieldProblem, ValidationFailed
from sscard.kit.context import Actor, ActorKind
from sscard.payments.codes import money
from sscard.payments.merchants import payee_service
from sscard.payments.merchants import service as merchants_service
from sscard.payments.orders import service as orders_service
from sscard.payments.orders.schemas import OrderOut
from sscard.payments.paycodes import qr_service, service
from sscard.payments.paycodes.errors import (
    BillPaid,
    MerchantNotAccepting,
    TerminalNotForMerchant,
)
from sscard.payments.paycodes.models import CardCharge
from sscard.payments.paycodes.schemas import ChargeIn, MerchantQrPayIn, PaymentOut

if TYPE_CHECKING:
    from sscard.payments.merchants.models import Merchant

STATUS_NAMES = {"paid": "支付成功", "failed": "支付失败", "paying": "银行处理中"}
CHARGE_STATUS = {
    "paid": "paid",
    "refunded": "paid",
    "partially_refunded": "paid",
    "failed": "failed",
    "closed": "failed",
}
"""Order status -> charge status (a refunded order was paid: it stays counted)."""


@dataclass(frozen=True, slots=True)
class Ordered:
    """A charge with its order, ready for the bank (or already answered: ``done``)."""

    charge_id: int
    order_no: str
    card_id: str
    channel: str
    merchant_name: str
    done: OrderOut | None = None


# ---- who charges for which merchant -----------------------------------------------------


def charging_merchant(
    session: Session, *, actor: Actor, merchant_code: str, terminal_code: str | None
) -> Merchant:
    """The merchant a charge is for: a terminal's own merchant only; an operator's within
    their region (and the named terminal must be that merchant's)."""
    if actor.kind is ActorKind.terminal:
        own = payee_service.merchant_of_terminal(session, terminal_code=actor.id)
        if own is None or own.code != merchant_code or terminal_code not in (None, actor.id):
            raise TerminalNotForMerchant(f"本终端不能为商户 {merchant_code[:32]} 收款")
        merchant = own
    else:
        merchant = merchants_service.get_merchant_by_code(session, code=merchant_code, actor=actor)
        if terminal_code is not None:
            linked = payee_service.merchant_of_terminal(session, terminal_code=terminal_code)
            if linked is None or linked.id != merchant.id:
                reason = f"终端 {terminal_code[:32]} 未关联商户 {merchant.code}"
                raise ValidationFailed([FieldProblem("terminal_code", reason)], reason)
    if merchant.status != "active":
        raise MerchantNotAccepting(f"商户“{merchant.name}”暂停收款")
    return merchant


# ---- ordering -------------------------------------------------------------------------


def _order(session: Session, charge: CardCharge, *, actor: Actor, merchant_name: str) -> Ordered:
    order = orders_service.create_order(
        session,
        actor=actor,
        merchant_code=charge.merchant_code,
        merchant_order_no=charge.merchant_order_no,
        amount_fen=charge.amount_fen,
        category=qr_service.category(session, merchant_code=charge.merchant_code),
        channel=charge.channel,
        subject=merchant_name,
    )
    service.settle_charge(session, charge_id=charge.id, order_no=order.order_no, status="ordered")
    return Ordered(charge.id, order.order_no, charge.card_id, charge.channel, merchant_name)


def _earlier(session: Session, charge: CardCharge, *, actor: Actor, name: str) -> Ordered:
    if charge.order_no is None:
        raise BillPaid("该订单正在付款，请稍后查询")
    order = orders_service.get_order(session, order_no=charge.order_no, actor=actor)
    done = None if order.status == "created" else order
    return Ordered(charge.id, charge.order_no, charge.card_id, charge.channel, name, done)


def order_paycode(session: Session, *, data: ChargeIn, merchant: Merchant, actor: Actor) -> Ordered:
    """Claim the scanned code for the merchant's order and create the card order; a retry
    with the same merchant order number and amount answers with the first payment."""
    amount_fen = service.amount_of(data.amount_fen, data.amount)
    before = service.existing_charge(
        session, merchant_code=merchant.code, merchant_order_no=data.merchant_order_no
    )
    if before is not None:
        if before.amount_fen != amount_fen or before.channel != "paycode":
            raise BillPaid(f"商户订单号 {data.merchant_order_no} 已用于另一笔付款")
        return _earlier(session, before, actor=actor, name=merchant.name)
    pin = data.pin.get_secret_value() if data.pin is not None else None
    charge = service.claim_for_charge(
        session,
        text=data.code,
        merchant_code=merchant.code,
        merchant_order_no=data.merchant_order_no,
        amount_fen=amount_fen,
        pin=pin,
    )
    return _order(session, charge, actor=actor, merchant_name=merchant.name)


def order_merchant_qr(
    session: Session, *, person_id: str, data: MerchantQrPayIn, actor: Actor
) -> Ordered:
    """The payer's charge for a merchant QR and its card order (or the bill's earlier one)."""
    found = qr_service.charge_merchant_qr(session, person_id=person_id, data=data)
    name = found.preview.merchant_name
    if found.replay:
        return _earlier(session, found.charge, actor=actor, name=name)
    return _order(session, found.charge, actor=actor, merchant_name=name)


# ---- paying -------------------------------------------------------------------------------


def pay(ordered: Ordered, *, actor: Actor) -> PaymentOut:
    """Ask the bank (outside any transaction) and note its answer on the charge."""
    order = ordered.done
    if order is None:
        order = orders_service.pay_by_card(
            order_no=ordered.order_no, card_id=ordered.card_id, channel=ordered.channel, actor=actor
        )
        with db.transaction() as session:
            service.settle_charge(
                session,
                charge_id=ordered.charge_id,
                order_no=order.order_no,
                status=CHARGE_STATUS.get(order.status, "paying"),
                reason=order.failure_reason,
            )
    return payment_out(order, merchant_name=ordered.merchant_name)


def payment_out(order: OrderOut, *, merchant_name: str) -> PaymentOut:
    """An order as the payer and the merchant see its outcome."""
    return PaymentOut(
        order_no=order.order_no,
        status=order.status.value,
        status_name=STATUS_NAMES.get(order.status, order.status_name),
        reason=order.failure_reason,
        amount_fen=order.amount_fen,
        amount=money.fen_to_yuan(order.amount_fen),
        merchant_code=order.merchant_code,
        merchant_name=merchant_name,
        merchant_order_no=order.merchant_order_no,
        channel=order.channel.value,
        at=order.updated_at,
    )


def result(session: Session, *, order_no: str, actor: Actor) -> PaymentOut:
    """A payment's outcome by order number (the wallet's result page)."""
    order = orders_service.get_order(session, order_no=order_no, actor=actor)
    merchant = payee_service.payee(session, code=order.merchant_code)
    return payment_out(order, merchant_name=merchant.name if merchant else order.merchant_code)
