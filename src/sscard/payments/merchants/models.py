"""The merchant table (payments_merchant)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK

MERCHANT_TABLE = "payments_merchant"


class Merchant(Base):
    """A merchant (商户) that accepts payments through the platform.

    The settlement account number is financial data: stored as a field token with a masked
    copy for display (:mod:`sscard.payments.merchants.sealing`).
    """

    __tablename__ = MERCHANT_TABLE

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    mcc: Mapped[str] = mapped_column(String(4))
    """ISO 18245 merchant category code (one of ``payments.codes.mcc.MCC_NAMES``)."""
    institution_code: Mapped[str] = mapped_column(String(32), index=True)
    """The institution (iam) the merchant belongs to or was signed up by."""
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    """GB/T 2260 code where the merchant trades; scopes which operators see it."""
    settlement_bank: Mapped[str] = mapped_column(String(100))
    settlement_account_enc: Mapped[bytes] = mapped_column(LargeBinary)
    """The settlement account number, an SM4-GCM field token."""
    settlement_account_masked: Mapped[str] = mapped_column(String(40))
    fee_rate_bp: Mapped[int] = mapped_column(Integer)
    """Fee on each payment in basis points (1 bp = 0.01 %); 0..10000."""
    status: Mapped[str] = mapped_column(String(16), index=True)
    """active (accepts payments), suspended (temporarily not), closed (no longer)."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MerchantTerminal(Base):
    """A terminal of the scenarios component (reader, scanner, POS) taking payments for a
    merchant; a terminal serves at most one merchant."""

    __tablename__ = "payments_merchant_terminal"

    terminal_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey(f"{MERCHANT_TABLE}.id"), index=True)
    linked_at: Mapped[datetime]
