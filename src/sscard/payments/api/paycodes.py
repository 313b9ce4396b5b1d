"""Payment code routes (付款码, 被扫) and merchant QR payments (主扫).

The two routes that move money run their transactions themselves: the charge and its order
are committed before the bank is asked (``pay_service.pay``), so no bank call sits inside an
open transaction.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from sscard import db
from sscard.errors import NotAuthenticated
from sscard.httpkit import gate
from sscard.httpkit.deps import CurrentActor, DbSession, authenticate
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor, ActorKind
from sscard.payments.paycodes import pay_service, qr_service, service
from sscard.payments.paycodes.schemas import (
    ChargeIn,
    MerchantQrIn,
    MerchantQrPayIn,
    MerchantQrPreview,
    PaycodeOut,
    PaymentOut,
)

router = APIRouter(route_class=UnitOfWorkRoute, tags=["paycodes"])
CHARGE_PERMISSION = "payments.orders.manage"


def _resident(actor: Actor) -> str:
    if actor.kind is not ActorKind.resident:
        raise NotAuthenticated("请先以电子社保卡登录（缺少居民会话令牌）", code="resident_required")
    return actor.id


@router.post("/paycodes", response_model=PaycodeOut)
def issue_paycode(actor: CurrentActor, session: DbSession) -> PaycodeOut:
    """A fresh payment code of my live e-card (the one before stops working)."""
    return service.issue_paycode(session, person_id=_resident(actor))


@router.post("/paycodes/charge", response_model=PaymentOut)
async def charge(data: ChargeIn, request: Request) -> PaymentOut:
    """A merchant's terminal (or the acquirer) charges a scanned payment code once."""
    return await run_in_threadpool(_charge, data, request)


def _charge(data: ChargeIn, request: Request) -> PaymentOut:
    with db.transaction() as session:
        actor = authenticate(request, session)
        if actor.kind is not ActorKind.terminal:
            gate.current().authorize(session, actor, CHARGE_PERMISSION)
        merchant = pay_service.charging_merchant(
            session, actor=actor, merchant_code=data.merchant_code, terminal_code=data.terminal_code
        )
        ordered = pay_service.order_paycode(session, data=data, merchant=merchant, actor=actor)
    return pay_service.pay(ordered, actor=actor)


@router.post("/merchant-qr/preview", response_model=MerchantQrPreview)
def preview(data: MerchantQrIn, actor: CurrentActor, session: DbSession) -> MerchantQrPreview:
    """Whom a scanned merchant QR pays and how much (or that I type the amount)."""
    _resident(actor)
    return qr_service.preview(session, payload=data.payload)


@router.post("/merchant-qr/pay", response_model=PaymentOut)
async def pay_merchant_qr(data: MerchantQrPayIn, request: Request) -> PaymentOut:
    """Pay a scanned merchant QR from my card with the e-card PIN."""
    return await run_in_threadpool(_pay_qr, data, request)


def _pay_qr(data: MerchantQrPayIn, request: Request) -> PaymentOut:
    with db.transaction() as session:
        actor = authenticate(request, session)
        ordered = pay_service.order_merchant_qr(
            session, person_id=_resident(actor), data=data, actor=actor
        )
    return pay_service.pay(ordered, actor=actor)
