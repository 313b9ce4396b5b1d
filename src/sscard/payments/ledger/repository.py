"""Every query of the ledger."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from sscard.payments.ledger.models import LedgerAccount, LedgerTransfer

_Pending = aliased(LedgerTransfer)
_Resolution = aliased(LedgerTransfer)


def lock_accounts(session: Session, codes: Collection[str]) -> dict[str, LedgerAccount]:
    """The accounts named by ``codes``, locked for update in id order (so that two
    transactions locking the same accounts never wait for each other in a circle)."""
    rows = session.scalars(
        select(LedgerAccount)
        .where(LedgerAccount.code.in_(sorted(codes)))
        .order_by(LedgerAccount.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.code: row for row in rows}


def account(session: Session, code: str) -> LedgerAccount | None:
    return session.scalars(select(LedgerAccount).where(LedgerAccount.code == code)).first()


def open_codes(session: Session, codes: Collection[str]) -> set[str]:
    """Which of ``codes`` are open accounts (one query)."""
    if not codes:
        return set()
    stmt = select(LedgerAccount.code).where(LedgerAccount.code.in_(list(codes)))
    return set(session.scalars(stmt))


def add(session: Session, rows: Sequence[LedgerAccount | LedgerTransfer]) -> None:
    """Insert new accounts or transfers and flush (the triggers apply transfers)."""
    session.add_all(rows)
    session.flush()


def refresh(session: Session, accounts: Collection[LedgerAccount]) -> None:
    """Forget the totals the triggers changed, so the next read sees them."""
    for row in accounts:
        session.expire(row)


def transfers_by_refs(session: Session, refs: Collection[str]) -> dict[str, LedgerTransfer]:
    if not refs:
        return {}
    rows = session.scalars(select(LedgerTransfer).where(LedgerTransfer.ref.in_(sorted(refs))))
    return {row.ref: row for row in rows}


def resolved(session: Session, transfer_ids: Collection[int], *, column: str) -> set[int]:
    """Of ``transfer_ids``, those already resolved (``pending_id``) or reversed
    (``reverses_id``) by another transfer."""
    if not transfer_ids:
        return set()
    target = getattr(LedgerTransfer, column)
    return set(session.scalars(select(target).where(target.in_(sorted(transfer_ids)))))


def expired_pending(session: Session, now: datetime, limit: int) -> list[LedgerTransfer]:
    """Pending transfers past their timeout and not yet posted or voided."""
    return list(
        session.scalars(
            select(LedgerTransfer)
            .outerjoin(_Resolution, _Resolution.pending_id == LedgerTransfer.id)
            .where(
                LedgerTransfer.kind == "pending",
                LedgerTransfer.expires_at <= now,
                _Resolution.id.is_(None),
            )
            .order_by(LedgerTransfer.id)
            .limit(limit)
        )
    )


def codes_of(session: Session, account_ids: Collection[int]) -> dict[int, str]:
    if not account_ids:
        return {}
    rows = session.execute(
        select(LedgerAccount.id, LedgerAccount.code).where(
            LedgerAccount.id.in_(sorted(account_ids))
        )
    )
    return {row[0]: row[1] for row in rows}


def refs_of(session: Session, transfer_ids: Collection[int]) -> dict[int, str]:
    if not transfer_ids:
        return {}
    rows = session.execute(
        select(LedgerTransfer.id, LedgerTransfer.ref).where(
            LedgerTransfer.id.in_(sorted(transfer_ids))
        )
    )
    return {row[0]: row[1] for row in rows}


def accounts(
    session: Session, kind: str | None, offset: int, limit: int
) -> tuple[list[LedgerAccount], int]:
    stmt = select(LedgerAccount)
    if kind:
        stmt = stmt.where(LedgerAccount.kind == kind)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(LedgerAccount.code).offset(offset).limit(limit))
    return list(rows), total


def transfers_of(
    session: Session, account_id: int, offset: int, limit: int
) -> tuple[list[LedgerTransfer], int]:
    """An account's transfers, newest first."""
    stmt = select(LedgerTransfer).where(
        or_(
            LedgerTransfer.debit_account_id == account_id,
            LedgerTransfer.credit_account_id == account_id,
        )
    )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(LedgerTransfer.id.desc()).offset(offset).limit(limit))
    return list(rows), total


def count_accounts(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(LedgerAccount)) or 0


def count_transfers(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(LedgerTransfer)) or 0


StreamedTransfer = tuple[
    int, str, str, int, int, int, int | None, str | None, int | None, int | None, int | None
]
"""id, ref, kind, debit id, credit id, amount; then the pending transfer it resolves (id,
kind, debit id, credit id, amount), or five Nones."""


def stream_transfers(session: Session, chunk: int) -> Iterator[StreamedTransfer]:
    """Every transfer in ledger order with the pending transfer it resolves (if any)."""
    stmt = (
        select(
            LedgerTransfer.id,
            LedgerTransfer.ref,
            LedgerTransfer.kind,
            LedgerTransfer.debit_account_id,
            LedgerTransfer.credit_account_id,
            LedgerTransfer.amount,
            LedgerTransfer.pending_id,
            _Pending.kind,
            _Pending.debit_account_id,
            _Pending.credit_account_id,
            _Pending.amount,
        )
        .outerjoin(_Pending, _Pending.id == LedgerTransfer.pending_id)
        .order_by(LedgerTransfer.id)
    )
    for row in session.execute(stmt.execution_options(yield_per=chunk)):
        yield tuple(row)


def stream_accounts(session: Session, chunk: int) -> Iterator[LedgerAccount]:
    """Every account in id order."""
    yield from session.scalars(
        select(LedgerAccount).order_by(LedgerAccount.id).execution_options(yield_per=chunk)
    )


def posted_flows(session: Session, ref_prefix: str) -> list[tuple[str, str, int]]:
    """(debit code, credit code, fen) posted by transfers whose reference starts with
    ``ref_prefix`` (posted transfers and posts of pending ones), summed per pair."""
    debit, credit = aliased(LedgerAccount), aliased(LedgerAccount)
    stmt = (
        select(debit.code, credit.code, func.sum(LedgerTransfer.amount))
        .join(debit, debit.id == LedgerTransfer.debit_account_id)
        .join(credit, credit.id == LedgerTransfer.credit_account_id)
        .where(
            LedgerTransfer.ref.startswith(ref_prefix, autoescape=True),
            LedgerTransfer.kind.in_(("posted", "post_pending")),
        )
        .group_by(debit.code, credit.code)
    )
    return [(str(d), str(c), int(a or 0)) for d, c, a in session.execute(stmt)]


_Debit = aliased(LedgerAccount)
_Credit = aliased(LedgerAccount)

MovementRow = tuple[str, str, str, str, int]
"""ref, kind, debit account code, credit account code, amount."""


def stream_movements(
    session: Session, codes: Collection[str], start: datetime, end: datetime, chunk: int
) -> Iterator[MovementRow]:
    """Transfers of the given codes made in ``[start, end)``, in ledger order."""
    stmt = (
        select(
            LedgerTransfer.ref,
            LedgerTransfer.kind,
            _Debit.code,
            _Credit.code,
            LedgerTransfer.amount,
        )
        .join(_Debit, _Debit.id == LedgerTransfer.debit_account_id)
        .join(_Credit, _Credit.id == LedgerTransfer.credit_account_id)
        .where(
            LedgerTransfer.code.in_(sorted(codes)),
            LedgerTransfer.created_at >= start,
            LedgerTransfer.created_at < end,
        )
        .order_by(LedgerTransfer.id)
    )
    rows = session.connection().execute(stmt.execution_options(yield_per=chunk))
    for row in rows:
        yield tuple(row)  # type: ignore[misc]
