"""An order paid at the bank itself (网银支付): the bank took the money from an account the
platform does not hold, so there is no card leg and no hold. Called by online banking
once the bank's signed notice (or its status answer) has been verified.

Ledger: one posted transfer ``pay:<order_no>:w``, ``bank-clearing:<bank>`` ->
``merchant:<code>`` (code ``payment``): the bank owes the platform what it took, the
platform owes the merchant. Idempotent: an order already paid answers as it stands.

A closed order is paid too (audited ``paid_late``): the bank's confirmation can come after
the order's time limit closed it (the resident was still on the bank's page), and by then
the money has left the resident's account. Refusing it would leave the money taken and
no order paid; paid, it is settled to the merchant and can be refunded like any other.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.kit.context import Actor
from sscard.payments.ledger import service as ledger_service
from sscard.payments.ledger.rules import TransferKind
from sscard.payments.ledger.schemas import TransferIn
from sscard.payments.orders import repository
from sscard.payments.orders.errors import OrderConflict, OrderNotFound, OrderStatusConflict
from sscard.payments.orders.payment_steps import open_accounts
from sscard.payments.orders.schemas import Channel, OrderOut, OrderStatus
from sscard.payments.orders.shaping import order_out, record

DONE = frozenset({OrderStatus.paid, OrderStatus.refunded, OrderStatus.partially_refunded})


def mark_paid_by_bank(
    session: Session, *, order_no: str, bank_code: str, amount_fen: int, bank_ref: str, actor: Actor
) -> OrderOut:
    """The order is paid: its bank confirmed taking ``amount_fen`` (the whole amount)."""
    order = repository.order(session, order_no, lock=True)
    if order is None:
        raise OrderNotFound(f"订单 {order_no[:20]} 不存在")
    if order.status in DONE:
        return order_out(order)
    if order.channel != Channel.online_bank:
        raise OrderStatusConflict(f"订单 {order_no} 不是网银支付订单")
    if order.status not in (OrderStatus.created, OrderStatus.paying, OrderStatus.closed):
        raise OrderStatusConflict(f"订单 {order_no} 当前状态不能确认支付")
    late = order.status == OrderStatus.closed
    if amount_fen != order.amount_fen:
        raise OrderConflict(f"银行确认的金额与订单 {order_no} 的金额不一致", field="amount_fen")
    bank, merchant = f"bank-clearing:{bank_code}", f"merchant:{order.merchant_code}"
    open_accounts(session, bank, merchant)
    ledger_service.post_transfer(
        session,
        transfer=TransferIn(
            ref=f"pay:{order_no}:w",
            debit_account=bank,
            credit_account=merchant,
            amount=order.amount_fen,
            code="payment",
            reason=f"订单 {order_no} 网银支付",
            kind=TransferKind.posted,
        ),
    )
    now = utcnow()
    order.status, order.paid_fen, order.paid_at = OrderStatus.paid.value, order.amount_fen, now
    order.bank_code, order.updated_at = bank_code, now
    record(
        session,
        "paid_late" if late else "paid",
        order,
        channel=Channel.online_bank.value,
        bank_ref=bank_ref[:32],
    )
    return order_out(order)
