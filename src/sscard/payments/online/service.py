"""Online banking (网银支付) use cases: send an order to its bank's pay page with a signed
request, take the bank's signed notice (once, whatever the number of replays), and ask the
bank when no notice came. The return of the browser alone never marks an order paid."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from sscard import db
from sscard.db import utcnow
from sscard.exchange.peers import service as exchange_peers
from sscard.kit import access, events
from sscard.kit.context import SYSTEM, Actor
from sscard.payments.merchants import service as merchants_service
from sscard.payments.online import keys, repository, signing
from sscard.payments.online.errors import (
    NoticeRefused,
    OnlinePaymentNotFound,
    OnlinePaymentRefused,
)
from sscard.payments.online.events import OnlinePaymentConfirmed
from sscard.payments.online.models import OnlineNotice, OnlinePayment
from sscard.payments.online.schemas import NoticeAnswer, OnlinePaymentOut, StartOut
from sscard.payments.orders import bank_paid_service
from sscard.payments.orders import service as orders_service

log = logging.getLogger(__name__)
CHANNEL = "online_bank"
PAYABLE = ("created", "paying")
BANK_CODE = re.compile(r"^[A-Za-z0-9._-]{1,32}$")


def _audit(session: Session, action: str, order_no: str) -> None:
    access.record(
        session,
        access.AccessRecord(
            action=f"payments.online.{action}",
            subject_type="order",
            subject_id=order_no,
            subject_display=order_no,
        ),
    )


def _pay_request(session: Session, order: Any, *, bank_code: str, base_url: str) -> str:
    merchant = merchants_service.get_merchant_by_code(
        session, code=order.merchant_code, actor=SYSTEM
    )
    message = {
        "order_no": order.order_no,
        "bank_code": bank_code,
        "amount_fen": order.amount_fen,
        "merchant_name": merchant.name,
        "subject": getattr(order, "subject", None) or merchant.name,
        "return_url": f"{base_url}/wallet/online-result",
        "notify_url": f"{base_url}/api/v1/payments/online/notify",
        "issued_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "signer": keys.signer_party(),
    }
    data = signing.canonical(message)
    signature = keys.sign(session, data).hex()
    page = exchange_peers.bank_paypage_url(bank_code=bank_code)
    return f"{page}?req={signing.encode_request(message)}&sig={signature}"


def start_payment(
    session: Session, *, order_no: str, bank_code: str, base_url: str, actor: Actor
) -> StartOut:
    """Sign the order for ``bank_code``'s pay page; where to send the browser."""
    order = orders_service.get_order(session, order_no=order_no, actor=actor)
    if order.channel != CHANNEL:
        raise OnlinePaymentRefused(f"订单 {order_no} 不是网银支付订单，不能转到银行支付页")
    if order.status not in PAYABLE:
        raise OnlinePaymentRefused(f"订单 {order_no} 当前状态为 {order.status}，不能再支付")
    if not BANK_CODE.fullmatch(bank_code):
        raise OnlinePaymentRefused("银行代码（bank_code）格式不正确")
    found = repository.payment(session, order_no, lock=True)
    if found is None:
        found = OnlinePayment(
            order_no=order_no,
            bank_code=bank_code,
            amount_fen=order.amount_fen,
            status="redirected",
            started_at=utcnow(),
        )
        repository.add(session, found)
    elif found.status != "redirected":
        raise OnlinePaymentRefused(f"订单 {order_no} 的网银支付已有结果，不能再支付")
    found.bank_code = bank_code
    url = _pay_request(session, order, bank_code=bank_code, base_url=base_url.rstrip("/"))
    _audit(session, "start", order_no)
    return StartOut(order_no=order_no, bank_code=bank_code, pay_url=url)


def _genuine(session: Session, body: bytes, signature: str | None) -> dict[str, Any]:
    """The notice, once well formed and signed by the bank it names (else refused, logged)."""
    try:
        message = signing.parse(body, signing.NOTICE_FIELDS)
        signed = signing.signature_bytes(signature)
    except signing.BadMessage as exc:
        log.warning("online notice refused: %s", exc)
        raise NoticeRefused(f"网银支付结果通知无效：{exc}") from exc
    bank_code = str(message["bank_code"])
    if not BANK_CODE.fullmatch(bank_code) or not keys.bank_signed(
        session, bank_code=bank_code, message=body, signature=signed
    ):
        log.warning(
            "online notice refused: bad signature bank=%s order=%s",
            bank_code[:32],
            str(message["order_no"])[:20],
        )
        raise NoticeRefused("网银支付结果通知的签名无效，已拒绝")
    return message


def _mismatch(payment: OnlinePayment | None, message: dict[str, Any]) -> str:
    if payment is None:
        return "平台没有向该银行发出过此订单的支付请求"
    if payment.bank_code != message["bank_code"]:
        return "通知的银行与订单的支付银行不一致"
    if payment.amount_fen != message["amount_fen"]:
        return "通知的金额与订单金额不一致"
    if message["status"] != "paid":
        return "通知的支付状态不是已支付"
    return ""


def _answer(row: OnlineNotice) -> NoticeAnswer:
    return NoticeAnswer(
        notice_id=row.notice_id, order_no=row.order_no, outcome=row.outcome, reason=row.reason
    )


def _confirm(session: Session, payment: OnlinePayment, message: dict[str, Any]) -> None:
    bank_paid_service.mark_paid_by_bank(
        session,
        order_no=payment.order_no,
        bank_code=payment.bank_code,
        amount_fen=payment.amount_fen,
        bank_ref=str(message["bank_ref"])[:32],
        actor=SYSTEM,
    )
    payment.status, payment.paid_at = "paid", utcnow()
    payment.bank_ref = str(message["bank_ref"])[:32]
    _audit(session, "paid", payment.order_no)
    events.publish(
        session,
        OnlinePaymentConfirmed(
            order_no=payment.order_no, bank_code=payment.bank_code, amount_fen=payment.amount_fen
        ),
    )


def receive_notice(session: Session, *, body: bytes, signature: str | None) -> NoticeAnswer:
    """Take a bank's signed notice: pay the order once; a replay gets the first answer."""
    message = _genuine(session, body, signature)
    notice_id = str(message["notice_id"])[:64]
    known = repository.notice(session, notice_id)
    if known is not None:
        return _answer(known)
    payment = repository.payment(session, str(message["order_no"])[:20], lock=True)
    reason = _mismatch(payment, message)
    if not reason and payment is not None and payment.status == "redirected":
        _confirm(session, payment, message)
    row = OnlineNotice(
        notice_id=notice_id,
        order_no=str(message["order_no"])[:20],
        bank_code=str(message["bank_code"]),
        amount_fen=int(message["amount_fen"]),
        outcome="refused" if reason else "accepted",
        reason=reason or "已确认支付",
        received_at=utcnow(),
    )
    repository.add(session, row)
    if reason:
        log.warning("online notice refused: %s order=%s", reason, row.order_no)
    return _answer(row)


def query_bank(*, order_no: str, actor: Actor) -> OnlinePaymentOut:
    """Ask the bank about an order still waiting for its notice (the bank is called outside
    any transaction); a paid answer is taken as the bank's notice."""
    with db.transaction() as session:
        found = get_payment(session, order_no=order_no, actor=actor)
    if found.status == "redirected":
        answer = exchange_peers.bank_paypage_status(bank_code=found.bank_code, order_no=order_no)
        if answer.status == "paid":
            with db.transaction() as session:
                receive_notice(session, body=answer.notice, signature=answer.signature)
    with db.transaction() as session:
        return get_payment(session, order_no=order_no, actor=actor)


def get_payment(session: Session, *, order_no: str, actor: Actor) -> OnlinePaymentOut:
    """The online payment of an order the actor may see."""
    orders_service.get_order(session, order_no=order_no, actor=actor)
    found = repository.payment(session, order_no)
    if found is None:
        raise OnlinePaymentNotFound(f"订单 {order_no} 没有网银支付记录")
    return OnlinePaymentOut.model_validate(found)


def payment_status(session: Session, *, order_no: str) -> OnlinePaymentOut | None:
    """How an online payment stands, for the page the bank sends the browser back to
    (no personal data: order number, bank, amount, status)."""
    found = repository.payment(session, order_no)
    return OnlinePaymentOut.model_validate(found) if found is not None else None
