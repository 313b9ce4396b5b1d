"""One-step activation tables: the saga's steps per card."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base


class ActivationStep(Base):
    """One step of one-step activation (一站式启用): card, bank account, transport."""

    __tablename__ = "issuance_activation_step"

    card_id: Mapped[str] = mapped_column(
        ForeignKey("issuance_card.id", ondelete="CASCADE"), primary_key=True
    )
    step: Mapped[str] = mapped_column(String(16), primary_key=True)
    """card, bank or transport."""
    status: Mapped[str] = mapped_column(String(16))
    """pending, done, failed or compensated."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime]
