"""Ledger tables. The database keeps the invariants too: see the migration
``2026-12-04-1305_payments_ledger.py`` for the triggers (totals applied on insert, posts and
voids matched to their pending transfer, transfers immutable)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sscard.db import Base, BigIntPK

KINDS = "'posted', 'pending', 'post_pending', 'void_pending'"


class LedgerAccount(Base):
    """An account of the ledger (账户), named by a stable code."""

    __tablename__ = "payments_ledger_account"
    __table_args__ = (
        CheckConstraint(
            "debits_pending >= 0 AND debits_posted >= 0"
            " AND credits_pending >= 0 AND credits_posted >= 0",
            name="totals_not_negative",
        ),
        CheckConstraint(
            "NOT debits_must_not_exceed_credits"
            " OR debits_pending + debits_posted <= credits_posted",
            name="debits_within_credits",
        ),
        CheckConstraint(
            "NOT credits_must_not_exceed_debits"
            " OR credits_pending + credits_posted <= debits_posted",
            name="credits_within_debits",
        ),
        CheckConstraint(
            "NOT (debits_must_not_exceed_credits AND credits_must_not_exceed_debits)",
            name="one_flag",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(96), unique=True)
    """``card:<id>``, ``merchant:<code>``, ``bank-clearing:<bank>``, ``fee-income`` ..."""
    kind: Mapped[str] = mapped_column(String(32))
    currency: Mapped[int] = mapped_column(Integer)
    """ISO 4217 numeric code: 156 (CNY)."""
    debits_must_not_exceed_credits: Mapped[bool] = mapped_column(Boolean)
    """No overdraw: pending and posted debits stay within posted credits."""
    credits_must_not_exceed_debits: Mapped[bool] = mapped_column(Boolean)
    """The mirror flag, for accounts that must not be credited beyond what they paid out."""
    debits_pending: Mapped[int] = mapped_column(BigInteger)
    """Fen reserved by pending transfers debiting this account (kept by a trigger)."""
    debits_posted: Mapped[int] = mapped_column(BigInteger)
    """Fen debited by posted transfers (kept by a trigger)."""
    credits_pending: Mapped[int] = mapped_column(BigInteger)
    """Fen reserved by pending transfers crediting this account (kept by a trigger)."""
    credits_posted: Mapped[int] = mapped_column(BigInteger)
    """Fen credited by posted transfers (kept by a trigger)."""
    created_at: Mapped[datetime]


class LedgerTransfer(Base):
    """A transfer (转账) of ``amount`` fen from the debit account to the credit account.

    Never updated or deleted (the database refuses); a mistake is undone by a reversal.
    """

    __tablename__ = "payments_ledger_transfer"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id", name="two_accounts"),
        CheckConstraint(f"kind IN ({KINDS})", name="kind"),
        CheckConstraint(
            "(pending_id IS NULL) = (kind IN ('posted', 'pending'))", name="resolves_pending"
        ),
        CheckConstraint("expires_at IS NULL OR kind = 'pending'", name="timeout_of_pending"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    """The ledger's sequence: transfers are applied in this order."""
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    """The client-chosen idempotency reference."""
    kind: Mapped[str] = mapped_column(String(16))
    """posted, pending, post_pending or void_pending (see ``rules.TransferKind``)."""
    debit_account_id: Mapped[int] = mapped_column(
        ForeignKey("payments_ledger_account.id"), index=True
    )
    credit_account_id: Mapped[int] = mapped_column(
        ForeignKey("payments_ledger_account.id"), index=True
    )
    amount: Mapped[int] = mapped_column(BigInteger)
    """Fen, > 0. For a post: what is posted; for a void: the pending amount released."""
    code: Mapped[str] = mapped_column(String(32))
    """What the money is for: payment, refund, settlement, fee, benefit, reversal ..."""
    reason: Mapped[str] = mapped_column(String(200))
    pending_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments_ledger_transfer.id"), unique=True
    )
    """For a post or void: the pending transfer it resolves (at most one resolution each)."""
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments_ledger_transfer.id"), unique=True
    )
    """For a reversal: the transfer it undoes (at most one reversal each)."""
    expires_at: Mapped[datetime | None]
    """A pending transfer's timeout: after it, it can only be voided."""
    created_at: Mapped[datetime] = mapped_column(index=True)
    """When the transfer was made; clearing reads a day's transfers by it."""

    pending: Mapped[LedgerTransfer | None] = relationship(
        foreign_keys=[pending_id], remote_side=[id], lazy="raise"
    )
