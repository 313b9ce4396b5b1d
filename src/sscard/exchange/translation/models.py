"""Code translation tables: code sets, external systems, their field names and codes."""

from __future__ import annotations

from sqlalchemy import ForeignKey, ForeignKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base


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
