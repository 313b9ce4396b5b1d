"""Every query of medical settlement."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sscard.payments.medical.models import ChronicQualification, MedicalSettlement


def settlement(session: Session, number: str, *, lock: bool = False) -> MedicalSettlement | None:
    stmt = select(MedicalSettlement).where(MedicalSettlement.number == number)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def number_taken(session: Session, number: str) -> bool:
    stmt = select(MedicalSettlement.id).where(MedicalSettlement.number == number)
    return session.scalar(stmt) is not None


def settlements(
    session: Session,
    *,
    region_prefix: str,
    status: str | None,
    merchant_code: str | None,
    person_id: str | None,
    offset: int,
    limit: int,
) -> tuple[list[MedicalSettlement], int]:
    stmt = select(MedicalSettlement)
    if region_prefix:
        stmt = stmt.where(MedicalSettlement.region_code.startswith(region_prefix, autoescape=True))
    if status:
        stmt = stmt.where(MedicalSettlement.status == status)
    if merchant_code:
        stmt = stmt.where(MedicalSettlement.merchant_code == merchant_code)
    if person_id:
        stmt = stmt.where(MedicalSettlement.person_id == person_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order = (MedicalSettlement.created_at.desc(), MedicalSettlement.id.desc())
    rows = session.scalars(stmt.order_by(*order).offset(offset).limit(limit))
    return list(rows), total


def stale_paying(session: Session, limit: int) -> list[str]:
    stmt = select(MedicalSettlement.number).where(MedicalSettlement.status == "paying")
    return list(session.scalars(stmt.order_by(MedicalSettlement.id).limit(limit)))


def add(session: Session, row: MedicalSettlement | ChronicQualification) -> None:
    session.add(row)
    session.flush()


def qualification(session: Session, number: str) -> ChronicQualification | None:
    stmt = select(ChronicQualification).where(ChronicQualification.number == number)
    return session.scalars(stmt).first()


def qualifications(
    session: Session, *, region_prefix: str, person_id: str | None, offset: int, limit: int
) -> tuple[list[ChronicQualification], int]:
    stmt = select(ChronicQualification)
    if region_prefix:
        stmt = stmt.where(
            ChronicQualification.region_code.startswith(region_prefix, autoescape=True)
        )
    if person_id:
        stmt = stmt.where(ChronicQualification.person_id == person_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order = (ChronicQualification.created_at.desc(), ChronicQualification.id.desc())
    rows = session.scalars(stmt.order_by(*order).offset(offset).limit(limit))
    return list(rows), total


def live_qualification(
    session: Session, person_id: str, disease_code: str
) -> ChronicQualification | None:
    stmt = select(ChronicQualification).where(
        ChronicQualification.person_id == person_id,
        ChronicQualification.disease_code == disease_code,
        ChronicQualification.status == "active",
    )
    return session.scalars(stmt).first()
