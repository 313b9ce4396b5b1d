"""Card tables: cards and their timeline, number ranges, boxes of made cards, handovers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK

CARD_TABLE = "issuance_card"


class Card(Base):
    """One social security card (社会保障卡), from application to cancellation."""

    __tablename__ = CARD_TABLE

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("registry_person.id"))
    status: Mapped[str] = mapped_column(String(24))
    """A ``lifecycle.Status``; changed only through ``lifecycle.next_status``."""
    status_before_cancel: Mapped[str | None] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(16))
    """new or replacement (补换卡)."""
    reason: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    """counter, bank, online or employer."""
    mode: Mapped[str] = mapped_column(String(16))
    """batch (批量制卡) or instant (即时制卡)."""
    generation: Mapped[int] = mapped_column(Integer, default=3)
    region_code: Mapped[str] = mapped_column(String(6))
    """Issuing region (city): the first 6 characters of the card identification code."""
    managing_region_code: Mapped[str] = mapped_column(String(6))
    """The city that manages the card now (changes on 地市卡转移)."""
    bank_code: Mapped[str] = mapped_column(String(32))
    """Institution code of the cooperating (service) bank."""
    pickup_place: Mapped[str | None] = mapped_column(String(32))
    card_number: Mapped[str | None] = mapped_column(String(9), unique=True)
    card_id_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    atr: Mapped[str | None] = mapped_column(String(64))
    bank_account_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    bank_account_masked: Mapped[str | None] = mapped_column(String(32))
    issue_date: Mapped[date | None] = mapped_column(Date)
    expiry_date: Mapped[date | None] = mapped_column(Date)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("issuance_batch.id"))
    box_code: Mapped[str | None] = mapped_column(String(32))
    box_position: Mapped[int | None] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(64))
    """Where the card is now: an institution code, or ``holder``."""
    replaces_card_id: Mapped[str | None] = mapped_column(ForeignKey("issuance_card.id"))
    replaced_by_card_id: Mapped[str | None] = mapped_column(ForeignKey("issuance_card.id"))
    is_offsite: Mapped[bool] = mapped_column(Boolean, default=False)
    """Downloaded from the province: a card issued by another city (异地卡)."""
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    bank_account_active: Mapped[bool] = mapped_column(Boolean, default=False)
    transport_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    applied_by: Mapped[str] = mapped_column(String(64))
    applied_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    made_at: Mapped[datetime | None]
    issued_at: Mapped[datetime | None]
    activated_at: Mapped[datetime | None]
    lost_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)
    """Optimistic lock: of two concurrent operations on one card, one wins."""

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index(
            "uq_issuance_card_live_person",
            "person_id",
            unique=True,
            sqlite_where=text("status NOT IN ('failed', 'cancelled')"),
            postgresql_where=text("status NOT IN ('failed', 'cancelled')"),
        ),
        Index("ix_issuance_card_person_id", "person_id"),
        Index("ix_issuance_card_status", "status"),
        Index("ix_issuance_card_batch_id", "batch_id"),
        Index("ix_issuance_card_box_code", "box_code"),
        Index("ix_issuance_card_bank_code_status", "bank_code", "status"),
    )


class CardEvent(Base):
    """One step of a card's timeline (what happened, from which status to which, by whom)."""

    __tablename__ = "issuance_card_event"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    card_id: Mapped[str] = mapped_column(ForeignKey("issuance_card.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str | None] = mapped_column(String(64))
    institution_code: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime]

    __table_args__ = (Index("ix_issuance_card_event_card_id", "card_id", "occurred_at"),)


class NumberRange(Base):
    """A block of card numbers a region may allocate (开户放号): prefix + zero-padded serial."""

    __tablename__ = "issuance_number_range"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    prefix: Mapped[str] = mapped_column(String(4))
    next_value: Mapped[int] = mapped_column(BigInteger)
    """The next serial to hand out; only ever grows, so no number is reused."""
    last_value: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime]


class Box(Base):
    """A box of made cards (卡盒) as the vendor packed it."""

    __tablename__ = "issuance_box"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("issuance_batch.id"))
    vendor_code: Mapped[str] = mapped_column(String(32))
    card_count: Mapped[int] = mapped_column(Integer, default=0)
    location: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class Handover(Base):
    """One move of a card or a whole box (卡片交接): who handed it to whom, where and when."""

    __tablename__ = "issuance_handover"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    card_id: Mapped[str | None] = mapped_column(ForeignKey("issuance_card.id"))
    box_code: Mapped[str | None] = mapped_column(ForeignKey("issuance_box.code"))
    from_place: Mapped[str] = mapped_column(String(64))
    to_place: Mapped[str] = mapped_column(String(64))
    handler: Mapped[str] = mapped_column(String(64))
    receiver: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(200), default="")
    handed_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_issuance_handover_card_id", "card_id"),
        Index("ix_issuance_handover_box_code", "box_code"),
    )
