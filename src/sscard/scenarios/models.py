"""Scenario and terminal tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK


class Scenario(Base):
    """An application scenario (应用场景): a library, a hospital, a bus, a counter ..."""

    __tablename__ = "scenarios_scenario"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[int] = mapped_column(Integer)
    """1 视读 (visual), 2 刷卡 (card swipe), 3 扫码 (code scan)."""
    disclosure: Mapped[list[str]] = mapped_column(JSON)
    """Cardholder attributes a terminal of this scenario may see."""
    created_at: Mapped[datetime]


class Terminal(Base):
    """A reader, scanner, POS or gate at an institution, working in one scenario."""

    __tablename__ = "scenarios_terminal"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    institution_code: Mapped[str] = mapped_column(String(32))
    scenario_code: Mapped[str] = mapped_column(ForeignKey("scenarios_scenario.code"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    """SM3 of the terminal's bearer token (``stt_...``); shown once when issued."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
