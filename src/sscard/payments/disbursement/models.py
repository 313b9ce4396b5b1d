"""Disbursement tables: batches, the payment file sent to each bank, and the lines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sscard.db import Base, BigIntPK

BATCH_TABLE = "payments_disbursement_batch"
FILE_TABLE = "payments_disbursement_file"
LINE_TABLE = "payments_disbursement_line"


class DisbursementBatch(Base):
    """A benefit batch (待遇发放批次): one imported file of one benefit kind and period."""

    __tablename__ = BATCH_TABLE

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    batch_no: Mapped[str] = mapped_column(String(16), unique=True)
    """``D`` + the Beijing date (yyyymmdd) + 4 digits."""
    kind: Mapped[str] = mapped_column(String(16))
    """pension 养老金, unemployment 失业金, subsidy 补贴."""
    period: Mapped[str] = mapped_column(String(6))
    """The month paid for, YYYYMM."""
    source_name: Mapped[str] = mapped_column(String(200))
    source_sm3: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    """validated (checked whole, not sent), sent (payment files at the banks), returned
    (every file's return imported), closed (every line paid or resolved)."""
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    """The importing operator's region: only operators of that region see the batch."""
    institution_code: Mapped[str] = mapped_column(String(32))
    line_count: Mapped[int] = mapped_column(Integer)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    """Sum of the imported lines, in fen (retries not counted again)."""
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DisbursementFile(Base):
    """A payment file (发放文件) of one batch to one bank, and its return file (回盘)."""

    __tablename__ = FILE_TABLE

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    file_no: Mapped[str] = mapped_column(String(64), unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey(f"{BATCH_TABLE}.id"), index=True)
    bank_code: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    """prepared (written, money held), sent (the bank has it), returned (return imported)."""
    path: Mapped[str] = mapped_column(String(500))
    line_count: Mapped[int] = mapped_column(Integer)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    paid_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]


class DisbursementLine(Base):
    """One payment of a batch to one person's card (发放明细)."""

    __tablename__ = LINE_TABLE

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey(f"{BATCH_TABLE}.id"), index=True)
    row_no: Mapped[int] = mapped_column(Integer)
    """The row of the imported file (1 = first data row); a retry keeps its line's row."""
    person_id: Mapped[str] = mapped_column(String(26), index=True)
    id_number_masked: Mapped[str] = mapped_column(String(32))
    name_masked: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(6))
    card_id: Mapped[str] = mapped_column(String(26))
    card_number: Mapped[str] = mapped_column(String(9))
    bank_code: Mapped[str] = mapped_column(String(32))
    bank_account_masked: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    """Fen paid to the card, > 0."""
    status: Mapped[str] = mapped_column(String(16), index=True)
    """pending (not sent), sent (at the bank, money held), paid (the bank credited it),
    failed (the bank refused; the money is in suspense), retried (a retry line carries it on),
    resolved (closed by hand with a reason; the money went back to the benefit fund)."""
    fail_code: Mapped[str | None] = mapped_column(String(32))
    fail_reason: Mapped[str | None] = mapped_column(String(200))
    retry_of_id: Mapped[int | None] = mapped_column(ForeignKey(f"{LINE_TABLE}.id"), unique=True)
    """For a retry: the failed line it pays again (each failed line is retried at most once)."""
    file_id: Mapped[int | None] = mapped_column(ForeignKey(f"{FILE_TABLE}.id"), index=True)
    note: Mapped[str | None] = mapped_column(String(200))
    """Why a clerk resolved the line by hand."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
