"""E-card tables: the e-card (one per physical card), its channel copies, resident
sessions, usage events and the revocation list offline terminals follow."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK


class ECard(Base):
    """The e-card (电子社保卡正本): exactly one per physical card."""

    __tablename__ = "ecard_card"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    card_id: Mapped[str] = mapped_column(ForeignKey("issuance_card.id"), unique=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("registry_person.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    """active, suspended (card lost) or revoked (card cancelled); copies follow it."""
    signed_at: Mapped[datetime]
    signed_channel: Mapped[str] = mapped_column(String(32))
    real_person_method: Mapped[str] = mapped_column(String(16))
    """How the holder was seen to be a real person: counter, face or demo."""
    pin_hash: Mapped[str] = mapped_column(String(200))
    """The e-card PIN (验密), separate from the card PIN."""
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]


class Copy(Base):
    """A copy (副本) of an e-card held in one channel app; its state equals the e-card's."""

    __tablename__ = "ecard_copy"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    """The copy number carried in codes (48 bits)."""
    ecard_id: Mapped[str] = mapped_column(ForeignKey("ecard_card.id", ondelete="CASCADE"))
    channel_code: Mapped[str] = mapped_column(String(32))
    holder_person_id: Mapped[str] = mapped_column(String(26))
    """Whose app holds the copy: the cardholder, or a guardian for a family member."""
    proxy: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    key_version: Mapped[int] = mapped_column(Integer)
    """Version of the e-card root key the copy's MAC key is derived from."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("ecard_id", "channel_code", "holder_person_id"),
        Index("ix_ecard_copy_holder", "holder_person_id"),
    )


class ResidentSession(Base):
    """A resident's session in a channel app after e-card authentication."""

    __tablename__ = "ecard_session"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[str] = mapped_column(String(26), index=True)
    ecard_id: Mapped[str] = mapped_column(ForeignKey("ecard_card.id", ondelete="CASCADE"))
    channel_code: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Usage(Base):
    """One use of an e-card: a verification at a terminal, a login, an authorisation."""

    __tablename__ = "ecard_usage"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    ecard_id: Mapped[str | None] = mapped_column(String(26))
    copy_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    """verify, login, authorise ..."""
    business: Mapped[int | None] = mapped_column(Integer)
    scenario_code: Mapped[str | None] = mapped_column(String(32))
    actor_id: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]

    __table_args__ = (Index("ix_ecard_usage_ecard_at", "ecard_id", "occurred_at"),)


class Revocation(Base):
    """A change of a copy's state, numbered, for terminals that verify offline."""

    __tablename__ = "ecard_revocation"

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    copy_id: Mapped[int] = mapped_column(BigInteger, index=True)
    status: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime]


class PhoneChange(Base):
    """A one-time code sent to the holder's old phone to confirm a new one (手机号变更)."""

    __tablename__ = "ecard_phone_change"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(String(26), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    """Hash of the code with the new number, so neither is stored in clear."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Wrong codes typed so far; the code is spent after ``MAX_ATTEMPTS``."""
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
