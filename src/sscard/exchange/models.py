"""Code translation tables: code sets, external systems, their field names and codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK


class CodeSet(Base):
    """A set of our internal codes (gender, ethnicity ...)."""

    __tablename__ = "exchange_code_set"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    """Chinese name, as messages quote it: 性别, 民族."""


class Code(Base):
    """One internal code of a set, with its Chinese name."""

    __tablename__ = "exchange_code"

    code_set_key: Mapped[str] = mapped_column(
        ForeignKey("exchange_code_set.key", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class ExternalSystem(Base):
    """A system we exchange coded data with: the province, medical insurance ..."""

    __tablename__ = "exchange_system"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    revision: Mapped[str] = mapped_column(String(32))
    """A new random value with every change to the system's tables (or to the code sets);
    cached translators built from another revision are rebuilt. Random rather than
    counted, so that a rolled-back change can never be mistaken for a committed one."""


class ExternalField(Base):
    """The field name a system gives a code set (AAC004, SEX); one table per pair."""

    __tablename__ = "exchange_external_field"

    system_key: Mapped[str] = mapped_column(
        ForeignKey("exchange_system.key", ondelete="CASCADE"), primary_key=True
    )
    code_set_key: Mapped[str] = mapped_column(
        ForeignKey("exchange_code_set.key", ondelete="CASCADE"), primary_key=True
    )
    external_field: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("system_key", "external_field"),)


class Mapping(Base):
    """One of our codes and the system's code for it; one to one within a table."""

    __tablename__ = "exchange_mapping"

    system_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    code_set_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_code: Mapped[str] = mapped_column(String(32))

    __table_args__ = (
        ForeignKeyConstraint(
            ["system_key", "code_set_key"],
            ["exchange_external_field.system_key", "exchange_external_field.code_set_key"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["code_set_key", "code"],
            ["exchange_code.code_set_key", "exchange_code.code"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("system_key", "code_set_key", "external_code"),
    )


# ---- entity mappings (seed 004: 单位、街道/社区、卡类型) ---------------------------------


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
            "system_key", "kind", "direction", "code",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_exchange_unresolved_code_status", "status", "system_key", "kind"),
    )  # fmt: skip
