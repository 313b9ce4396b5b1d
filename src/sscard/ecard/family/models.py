"""Family service table: a guardian's binding to a minor or an elder."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK


class FamilyBinding(Base):
    """A guardian holds a family member's e-card (亲情服务)."""

    __tablename__ = "ecard_family_binding"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    guardian_person_id: Mapped[str] = mapped_column(String(26), index=True)
    member_person_id: Mapped[str] = mapped_column(String(26), index=True)
    relation: Mapped[str] = mapped_column(String(16))
    """minor or elder."""
    consent: Mapped[str] = mapped_column(String(16))
    """by_age (a minor), member_ecard (the elder confirmed in their own app) or counter."""
    status: Mapped[str] = mapped_column(String(16))
    """pending (waiting for the elder's consent), active or ended."""
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
