"""Every query of payment codes and card charges."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from sscard.payments.paycodes.models import CardCharge, PaymentCode


def add(session: Session, row: PaymentCode | CardCharge) -> None:
    session.add(row)
    session.flush()


def code_in_slot(session: Session, *, slot: int, tick: int, product: str) -> PaymentCode | None:
    stmt = (
        select(PaymentCode)
        .where(PaymentCode.slot == slot, PaymentCode.tick == tick, PaymentCode.product == product)
        .order_by(PaymentCode.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def supersede_live(session: Session, *, person_id: str) -> None:
    """Every live code of the person stops working (a newer one is about to be shown)."""
    session.execute(
        update(PaymentCode)
        .where(PaymentCode.person_id == person_id, PaymentCode.status == "live")
        .values(status="superseded")
        .execution_options(synchronize_session=False)
    )


def claim(session: Session, *, code_id: int, at: datetime) -> bool:
    """Mark a live code claimed; False if it was not live any more. The conditional UPDATE
    is the single-use guarantee: of two transactions claiming at once, the second waits
    for the first and then finds the code no longer live."""
    result = session.execute(
        update(PaymentCode)
        .where(PaymentCode.id == code_id, PaymentCode.status == "live")
        .values(status="claimed", claimed_at=at)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def charge_by_merchant_order(
    session: Session, *, merchant_code: str, merchant_order_no: str
) -> CardCharge | None:
    stmt = select(CardCharge).where(
        CardCharge.merchant_code == merchant_code,
        CardCharge.merchant_order_no == merchant_order_no,
    )
    return session.scalars(stmt).first()


def lock_card_charges(session: Session, *, card_id: str) -> None:
    """Take the card's charge lock until the transaction ends, so that two charges of one
    card read the day's total one after the other. PostgreSQL: a transaction-scoped
    advisory lock keyed by the card; SQLite: nothing to do (``BEGIN IMMEDIATE`` already
    lets one writer in at a time)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(f"card-charge:{card_id}".encode(), digest_size=8).digest()
    key = int.from_bytes(digest, "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def charged_since(session: Session, *, card_id: str, since: datetime) -> int:
    """What the card paid (or is paying) by code and QR since ``since``; failures excluded."""
    stmt = select(func.coalesce(func.sum(CardCharge.amount_fen), 0)).where(
        CardCharge.card_id == card_id,
        CardCharge.created_at >= since,
        CardCharge.status != "failed",
    )
    return int(session.scalar(stmt) or 0)


def charge(session: Session, charge_id: int) -> CardCharge | None:
    return session.get(CardCharge, charge_id)


def charge_by_order(session: Session, *, order_no: str) -> CardCharge | None:
    return session.scalars(select(CardCharge).where(CardCharge.order_no == order_no)).first()
