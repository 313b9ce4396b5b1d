"""Units tables: employers (单位) and communities (社区/村)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK

EMPLOYER_TABLE = "registry_employer"


class Employer(Base):
    """A unit (单位) identified by its unified social credit code.

    The contact person's name and phone are personal data: stored as field tokens with a
    masked copy for display (:mod:`sscard.registry.units.sealing`).
    """

    __tablename__ = EMPLOYER_TABLE

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    contact_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    """The contact person's name, an SM4-GCM field token (None when not given)."""
    contact_name_masked: Mapped[str] = mapped_column(String(64), default="")
    contact_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    """The contact phone, an SM4-GCM field token (None when not given)."""
    contact_phone_masked: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Community(Base):
    """A community (社区/村) under a street or township (街道/乡镇, 9-digit code)."""

    __tablename__ = "registry_community"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    township_code: Mapped[str] = mapped_column(String(9), index=True)
    name: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    """County-level code the township belongs to."""
    created_at: Mapped[datetime]
