"""The contribution table (payments_contribution)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK


class Contribution(Base):
    """One person's 城乡居民基本养老保险 contribution for one year (at most one per year)."""

    __tablename__ = "payments_contribution"
    __table_args__ = (UniqueConstraint("person_id", "year"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    year: Mapped[int] = mapped_column(Integer)
    grade_fen: Mapped[int] = mapped_column(BigInteger)
    """The grade chosen (the yearly amount) in fen; the order is for this amount."""
    order_no: Mapped[str] = mapped_column(String(20), unique=True)
    """The current order; an unpaid one is replaced by a new attempt."""
    attempt: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    """unpaid (order not paid yet), paid (waiting to be reported), reported (the social
    insurance system recorded it), refused (it refused the report; see report_detail)."""
    report_detail: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    reported_at: Mapped[datetime | None]
