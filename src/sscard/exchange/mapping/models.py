"""Entity mappings (seed 004: 单位、街道/社区、卡类型) and the queue of unresolved codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK


class EntityMapping(Base):
    """One of our entities (an employer, a street or community, a card type) and the code an
    external system gives it; one to one within a system and kind."""

    __tablename__ = "exchange_entity_mapping"

    system_key: Mapped[str] = mapped_column(
        ForeignKey("exchange_system.key", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    """employer (our code: the unified social credit code), community (our community code)
    or card_type (our card type: the card generation, 2 or 3)."""
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    external_code: Mapped[str] = mapped_column(String(64))
    external_name: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(100), default="")
    """Where the mapping came from: a clerk resolving a queued code, a file, the API."""
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("system_key", "kind", "external_code"),)


class UnresolvedCode(Base):
    """A code met in an import or export that has no counterpart yet, for a clerk to map.

    ``direction`` out: our code has no external code (found while writing a file for the
    system); in: the system's code has no code of ours (found while reading its file).
    One open entry per system, kind, direction and code; meeting it again counts it.
    """

    __tablename__ = "exchange_unresolved_code"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    system_key: Mapped[str] = mapped_column(ForeignKey("exchange_system.key", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(3))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    """What is known of it (an employer's name), to help the clerk."""
    suggestion: Mapped[str | None] = mapped_column(String(64))
    """A likely counterpart (the employer with the same credit code), for the clerk to confirm."""
    source: Mapped[str] = mapped_column(String(100))
    """The batch or file it was first met in."""
    last_source: Mapped[str] = mapped_column(String(100))
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="open")
    """open, resolved or ignored."""
    resolved_code: Mapped[str | None] = mapped_column(String(64))
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(200))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "uq_exchange_unresolved_code_open",
            "system_key",
            "kind",
            "direction",
            "code",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_exchange_unresolved_code_status", "status", "system_key", "kind"),
    )
