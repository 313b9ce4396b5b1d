"""The medical settlement tables (payments_medical_settlement, payments_chronic_qualification)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK


class MedicalSettlement(Base):
    """One bill settled (or being settled) with the medical insurance system.

    The three parts always add up to the total: ``pool_fen + personal_fen + cash_fen ==
    total_fen`` once the system has answered (all zero before).
    """

    __tablename__ = "payments_medical_settlement"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    """``M`` + Beijing date (yyyymmdd) + 11 digits; the medical system's and the bank's key."""
    person_id: Mapped[str] = mapped_column(String(26), index=True)
    card_id: Mapped[str] = mapped_column(String(26), index=True)
    bank_code: Mapped[str] = mapped_column(String(32))
    """The card's service bank when the bill came (its clearing account and its debit)."""
    merchant_code: Mapped[str] = mapped_column(String(32), index=True)
    """The hospital or pharmacy (a merchant of ``payments.merchants``)."""
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    """The merchant's region: scopes which operators see the settlement."""
    visit_kind: Mapped[str] = mapped_column(String(16))
    """outpatient (门诊), inpatient (住院), pharmacy (药店购药)."""
    offsite: Mapped[bool] = mapped_column(Boolean)
    """Off-site care (异地就医): the card was issued in another city, or the code said so."""
    source: Mapped[str] = mapped_column(String(16))
    """How the insured was identified: ``ecard`` (scanned code) or ``card`` (card number)."""
    visit_date: Mapped[date]
    insurance_type: Mapped[str | None] = mapped_column(String(16))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """The bill's items, with the system's split of each once settled."""
    total_fen: Mapped[int] = mapped_column(BigInteger)
    pool_fen: Mapped[int] = mapped_column(BigInteger)
    """Paid by the pooled fund (统筹基金), in fen."""
    personal_fen: Mapped[int] = mapped_column(BigInteger)
    """Paid from the personal account (个人账户), in fen."""
    cash_fen: Mapped[int] = mapped_column(BigInteger)
    """Paid in cash from the card's bank account (个人现金), in fen."""
    status: Mapped[str] = mapped_column(String(16), index=True)
    """pending (asking the medical system), paying (legs held, bank asked), settled,
    failed (nothing posted), refunded (all three legs reversed)."""
    peer_settlement_id: Mapped[str | None] = mapped_column(String(32))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    refund_reason: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    settled_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]


class ChronicQualification(Base):
    """A person's qualification for a chronic disease's higher ratio (门诊慢特病资格)."""

    __tablename__ = "payments_chronic_qualification"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    person_id: Mapped[str] = mapped_column(String(26), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    """The person's region of residence: scopes which operators see it."""
    disease_code: Mapped[str] = mapped_column(String(16))
    disease_name: Mapped[str] = mapped_column(String(50))
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(16))
    """active or revoked."""
    approved_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
