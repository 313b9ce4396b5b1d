"""The outbox table: one row per delivery to one external destination."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, UniqueConstraint
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK

DEFAULT_MAX_ATTEMPTS = 8
LAST_ERROR_LENGTH = 300


class MessageStatus(StrEnum):
    pending = "pending"
    in_flight = "in_flight"
    delivered = "delivered"
    dead = "dead"


class OutboxMessage(Base):
    """One delivery to one external destination."""

    __tablename__ = "kit_outbox_message"
    __table_args__ = (
        UniqueConstraint("destination", "idempotency_key"),
        CheckConstraint("status IN ('pending', 'in_flight', 'delivered', 'dead')", name="status"),
        Index("ix_kit_outbox_message_due", "status", "next_attempt_at"),
        Index("ix_kit_outbox_message_lease", "status", "lease_until"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    destination: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(
        JSON().with_variant(postgresql.JSONB(), "postgresql")
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    """Unique per destination when given: enqueueing the same key again is a no-op."""
    status: Mapped[str] = mapped_column(String(16))
    """A :class:`MessageStatus`; see :mod:`sscard.kit.outbox` for the allowed moves."""
    attempts: Mapped[int] = mapped_column(Integer)
    """Claims so far, counted when claimed (an attempt that crashed its worker counts)."""
    max_attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    """While ``in_flight``: the claim is valid until then, after which anyone may re-claim."""
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    """Claim token of the worker round that claimed the message last."""
    last_error: Mapped[str | None] = mapped_column(String(LAST_ERROR_LENGTH))
    """Exception type and masked message of the last failure; never the payload."""
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
