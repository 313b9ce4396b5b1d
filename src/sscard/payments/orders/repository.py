"""Every query of orders and refunds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sscard.payments.orders.models import Order, Refund


def order(session: Session, order_no: str, *, lock: bool = False) -> Order | None:
    stmt = select(Order).where(Order.order_no == order_no)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def order_by_id(session: Session, order_id: int) -> Order | None:
    return session.get(Order, order_id)


def order_of_merchant(session: Session, merchant_id: int, merchant_order_no: str) -> Order | None:
    stmt = select(Order).where(
        Order.merchant_id == merchant_id, Order.merchant_order_no == merchant_order_no
    )
    return session.scalars(stmt).first()


def add(session: Session, row: Order | Refund) -> None:
    session.add(row)
    session.flush()


def orders(
    session: Session,
    *,
    region_prefix: str,
    merchant_code: str | None,
    status: str | None,
    channel: str | None,
    order_no: str | None,
    start: datetime | None,
    end: datetime | None,
    offset: int,
    limit: int | None,
) -> tuple[list[Order], int]:
    stmt = select(Order)
    if region_prefix:
        stmt = stmt.where(Order.region_code.startswith(region_prefix, autoescape=True))
    if merchant_code:
        stmt = stmt.where(Order.merchant_code == merchant_code)
    if status:
        stmt = stmt.where(Order.status == status)
    if channel:
        stmt = stmt.where(Order.channel == channel)
    if order_no:
        stmt = stmt.where(Order.order_no == order_no)
    if start is not None:
        stmt = stmt.where(Order.created_at >= start)
    if end is not None:
        stmt = stmt.where(Order.created_at < end)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = stmt.order_by(Order.created_at.desc(), Order.id.desc()).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    return list(session.scalars(page)), total


def order_nos_in_status(
    session: Session, status: str, *, before: datetime | None, limit: int
) -> list[str]:
    stmt = select(Order.order_no).where(Order.status == status)
    if before is not None:
        stmt = stmt.where(Order.expires_at < before)
    return list(session.scalars(stmt.order_by(Order.id).limit(limit)))


def refund(session: Session, refund_no: str) -> Refund | None:
    return session.scalars(select(Refund).where(Refund.refund_no == refund_no)).first()


def refunds_of(session: Session, order_id: int) -> list[Refund]:
    stmt = select(Refund).where(Refund.order_id == order_id).order_by(Refund.id)
    return list(session.scalars(stmt))


def pending_refund_nos(session: Session, *, limit: int) -> list[str]:
    stmt = select(Refund.refund_no).where(Refund.status == "pending").order_by(Refund.id)
    return list(session.scalars(stmt.limit(limit)))
