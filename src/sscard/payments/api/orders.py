"""Order routes (订单管理), limited to the operator's region.

Paying and refunding call the card's bank: those routes hold no request transaction (the
actor is checked apart, :func:`sscard.httpkit.deps.require_apart`), the service runs its
own."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from sscard.httpkit.deps import DbSession, require, require_apart
from sscard.httpkit.params import Page, PageSize
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor
from sscard.payments.orders import service
from sscard.payments.orders.schemas import (
    Channel,
    OrderIn,
    OrderOut,
    PayCardIn,
    RefundIn,
    RefundOut,
    StatusFilter,
)

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/orders", tags=["orders"])
Read = Annotated[Actor, Depends(require("payments.orders.read"))]
Manage = Annotated[Actor, Depends(require("payments.orders.manage"))]
PayApart = Annotated[Actor, Depends(require_apart("payments.orders.manage"))]
RefundApart = Annotated[Actor, Depends(require_apart("payments.refunds.manage"))]
OrderNo = Annotated[str, Path(pattern=r"^P\d{19}$")]


@router.post("", response_model=OrderOut, status_code=status.HTTP_201_CREATED)
def create_order(data: OrderIn, actor: Manage, session: DbSession) -> OrderOut:
    """Create a merchant's order; the same merchant order number and amount again answers
    with the same order, another amount is 409."""
    return service.create_order(session, actor=actor, **data.model_dump())


@router.get("", response_model=list[OrderOut])
def list_orders(
    actor: Read,
    session: DbSession,
    response: Response,
    merchant_code: Annotated[str | None, Query(max_length=32)] = None,
    order_status: Annotated[StatusFilter, Query(alias="status")] = StatusFilter.all,
    channel: Channel | None = None,
    order_no: Annotated[str | None, Query(max_length=20)] = None,
    start_date: Annotated[date | None, Query(description="Beijing day, included")] = None,
    end_date: Annotated[date | None, Query(description="Beijing day, included")] = None,
    page: Page = 1,
    page_size: PageSize = 20,
) -> list[OrderOut]:
    """Orders of the operator's region, newest first; the total is in ``X-Total-Count``."""
    found, total = service.find_orders(
        session,
        actor=actor,
        merchant_code=merchant_code,
        status=order_status,
        channel=channel.value if channel else None,
        order_no=order_no,
        start_date=start_date,
        end_date=end_date,
        page=page,
        page_size=page_size,
    )
    response.headers["X-Total-Count"] = str(total)
    return found


@router.get("/{order_no}", response_model=OrderOut)
def get_order(order_no: OrderNo, actor: Read, session: DbSession) -> OrderOut:
    return service.get_order(session, order_no=order_no, actor=actor)


ASKED_APART: dict[int | str, dict[str, object]] = {401: {}, 403: {}}
"""The statuses of the actor checked apart (not seen through the route's dependencies)."""


@router.post("/{order_no}/pay-card", response_model=OrderOut, responses=ASKED_APART)
def pay_by_card(order_no: OrderNo, data: PayCardIn, actor: PayApart) -> OrderOut:
    """Pay at a counter or POS with the physical card: paid, failed (with the bank's
    reason) or paying (the bank's answer not known yet)."""
    return service.pay_at_counter(order_no=order_no, card_number=data.card_number, actor=actor)


@router.post("/{order_no}/resolve", response_model=OrderOut, responses=ASKED_APART)
def resolve(order_no: OrderNo, actor: PayApart) -> OrderOut:
    """Ask the bank what became of a ``paying`` order (查询支付结果) and settle it if the bank
    knows: paid or failed, never both; still ``paying`` if it does not know yet. Any other
    order answers as it stands."""
    return service.resolve_paying(actor=actor, order_no=order_no)[0]


@router.post("/{order_no}/close", response_model=OrderOut)
def close_order(order_no: OrderNo, actor: Manage, session: DbSession) -> OrderOut:
    """Close an unpaid order."""
    return service.close_order(session, order_no=order_no, actor=actor)


@router.post(
    "/{order_no}/refunds", response_model=RefundOut, status_code=201, responses=ASKED_APART
)
def refund(order_no: OrderNo, data: RefundIn, actor: RefundApart) -> RefundOut:
    """Refund part or all of a paid order (idempotent on ``refund_no``)."""
    return service.refund(order_no=order_no, actor=actor, **data.model_dump())


@router.get("/{order_no}/refunds", response_model=list[RefundOut])
def list_refunds(order_no: OrderNo, actor: Read, session: DbSession) -> list[RefundOut]:
    return service.refunds_of(session, order_no=order_no, actor=actor)
