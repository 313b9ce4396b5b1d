"""Every query of the family service: the bindings."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sscard.ecard.family.models import FamilyBinding


def add(session: Session, binding: FamilyBinding) -> None:
    session.add(binding)
    session.flush()


def binding(session: Session, binding_id: int) -> FamilyBinding | None:
    return session.get(FamilyBinding, binding_id)


def live_binding(
    session: Session, guardian_id: str, member_id: str, live: Sequence[str]
) -> FamilyBinding | None:
    stmt = select(FamilyBinding).where(
        FamilyBinding.guardian_person_id == guardian_id,
        FamilyBinding.member_person_id == member_id,
        FamilyBinding.status.in_(live),
    )
    return session.scalars(stmt).first()


def count_live(session: Session, guardian_id: str, live: Sequence[str]) -> int:
    stmt = select(func.count()).where(
        FamilyBinding.guardian_person_id == guardian_id, FamilyBinding.status.in_(live)
    )
    return session.scalar(stmt) or 0


def bindings_of_guardian(
    session: Session, guardian_id: str, live: Sequence[str]
) -> list[FamilyBinding]:
    stmt = (
        select(FamilyBinding)
        .where(FamilyBinding.guardian_person_id == guardian_id, FamilyBinding.status.in_(live))
        .order_by(FamilyBinding.id)
    )
    return list(session.scalars(stmt))


def bindings_of_member(
    session: Session, member_id: str, live: Sequence[str]
) -> list[FamilyBinding]:
    stmt = (
        select(FamilyBinding)
        .where(FamilyBinding.member_person_id == member_id, FamilyBinding.status.in_(live))
        .order_by(FamilyBinding.id)
    )
    return list(session.scalars(stmt))
