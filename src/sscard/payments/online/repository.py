"""Queries of online banking."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sscard.payments.online.models import OnlineNotice, OnlinePayment


def payment(session: Session, order_no: str, *, lock: bool = False) -> OnlinePayment | None:
    query = select(OnlinePayment).where(OnlinePayment.order_no == order_no)
    return session.scalars(query.with_for_update() if lock else query).first()


def notice(session: Session, notice_id: str) -> OnlineNotice | None:
    return session.scalars(select(OnlineNotice).where(OnlineNotice.notice_id == notice_id)).first()


def add(session: Session, row: OnlinePayment | OnlineNotice) -> None:
    session.add(row)
    session.flush()
