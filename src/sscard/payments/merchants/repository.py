"""Every query of merchants."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sscard.payments.merchants.models import Merchant, MerchantTerminal


def merchant(session: Session, merchant_id: int) -> Merchant | None:
    return session.get(Merchant, merchant_id)


def merchant_by_code(session: Session, code: str) -> Merchant | None:
    return session.scalars(select(Merchant).where(Merchant.code == code)).first()


def merchants(
    session: Session,
    *,
    status: str | None,
    mcc: str | None,
    institution_code: str | None,
    name: str | None,
    region_prefix: str,
    offset: int,
    limit: int,
) -> tuple[list[Merchant], int]:
    stmt = select(Merchant)
    if status:
        stmt = stmt.where(Merchant.status == status)
    if mcc:
        stmt = stmt.where(Merchant.mcc == mcc)
    if institution_code:
        stmt = stmt.where(Merchant.institution_code == institution_code)
    if name:
        stmt = stmt.where(Merchant.name.contains(name, autoescape=True))
    if region_prefix:
        stmt = stmt.where(Merchant.region_code.startswith(region_prefix, autoescape=True))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Merchant.code).offset(offset).limit(limit))
    return list(rows), total


def add(session: Session, merchant: Merchant) -> Merchant:
    session.add(merchant)
    session.flush()
    return merchant


def terminal_link(session: Session, terminal_code: str) -> MerchantTerminal | None:
    return session.get(MerchantTerminal, terminal_code)


def terminal_links(session: Session, merchant_id: int) -> list[MerchantTerminal]:
    stmt = (
        select(MerchantTerminal)
        .where(MerchantTerminal.merchant_id == merchant_id)
        .order_by(MerchantTerminal.terminal_code)
    )
    return list(session.scalars(stmt))


def add_terminal_link(session: Session, link: MerchantTerminal) -> None:
    session.add(link)
    session.flush()


def remove_terminal_link(session: Session, link: MerchantTerminal) -> None:
    session.delete(link)
    session.flush()


def merchants_by_codes(session: Session, codes: Collection[str]) -> list[Merchant]:
    if not codes:
        return []
    return list(session.scalars(select(Merchant).where(Merchant.code.in_(sorted(codes)))))
