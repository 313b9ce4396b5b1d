"""Tables of the database guard: single-use claims and rate windows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base


class KitClaim(Base):
    """A single-use claim; the row may be taken over once ``expires_at`` has passed."""

    __tablename__ = "kit_claim"
    __table_args__ = (Index("ix_kit_claim_expires_at", "expires_at"),)

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    claimed_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class KitRateWindow(Base):
    """Hits on one key in one fixed window."""

    __tablename__ = "kit_rate_window"
    __table_args__ = (
        PrimaryKeyConstraint("key", "window_started_at"),
        Index("ix_kit_rate_window_expires_at", "expires_at"),
    )

    key: Mapped[str] = mapped_column(String(255))
    window_started_at: Mapped[datetime]
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime]
    """End of the window: the row means nothing after it and may be purged."""
