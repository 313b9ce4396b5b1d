"""Audit tables. Entries are appended, never updated; the head row holds the chain tip."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK


class AuditEntry(Base):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    chain: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    """Which of the parallel chains the entry belongs to (see audit/chain.py)."""
    seq: Mapped[int] = mapped_column(BigInteger)
    """Position in its chain: 1, 2, 3 ... without gaps."""
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str | None] = mapped_column(String(64))
    institution_code: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    """Internal row id of the subject (never an ID number): how a person finds their entries."""
    subject_display: Mapped[str | None] = mapped_column(String(64))
    """Masked subject, e.g. 370802********123X."""
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    purpose: Mapped[str | None] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("chain", "seq"),
        Index("ix_audit_entry_subject", "subject_type", "subject_id"),
        Index("ix_audit_entry_actor", "actor_kind", "actor_id"),
        Index("ix_audit_entry_occurred_at", "occurred_at"),
        Index("ix_audit_entry_action", "action"),
    )


class AuditChainHead(Base):
    """One row per chain: it serialises appends to that chain and remembers its tip."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    entry_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]
