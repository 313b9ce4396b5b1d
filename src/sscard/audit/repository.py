"""Every query of the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from sscard.audit.chain import GENESIS
from sscard.audit.models import AuditChainHead, AuditEntry
from sscard.audit.schemas import EntryFilter
from sscard.db import utcnow

HEAD = cast(Table, AuditChainHead.__table__)
ENTRY = cast(Table, AuditEntry.__table__)


def _create_head(session: Session, chain: int) -> None:
    values = {"id": chain, "seq": 0, "entry_hash": GENESIS, "updated_at": utcnow()}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(pg_insert(HEAD).values(**values).on_conflict_do_nothing())
    else:
        session.execute(sqlite_insert(HEAD).values(**values).on_conflict_do_nothing())


def lock_head(session: Session, chain: int) -> tuple[int, str]:
    """Lock chain ``chain``'s head until commit; its (seq, hash), created if missing."""
    stmt = select(HEAD.c.seq, HEAD.c.entry_hash).where(HEAD.c.id == chain).with_for_update()
    row = session.connection().execute(stmt).first()
    if row is None:
        _create_head(session, chain)
        row = session.connection().execute(stmt).one()
    return int(row[0]), str(row[1])


def insert_entries(session: Session, rows: list[dict[str, Any]]) -> None:
    session.connection().execute(insert(ENTRY), rows)


def set_head(session: Session, chain: int, seq: int, entry_hash: str) -> None:
    session.connection().execute(
        update(HEAD)
        .where(HEAD.c.id == chain)
        .values(seq=seq, entry_hash=entry_hash, updated_at=utcnow())
    )


def heads(session: Session) -> list[AuditChainHead]:
    return list(session.scalars(select(AuditChainHead).order_by(AuditChainHead.id)))


def chains_with_entries(session: Session) -> list[int]:
    return [int(c) for c in session.scalars(select(ENTRY.c.chain).distinct())]


def _filtered(flt: EntryFilter) -> Any:
    stmt = select(AuditEntry)
    for column, value in (
        (AuditEntry.actor_id, flt.actor_id),
        (AuditEntry.actor_kind, flt.actor_kind),
        (AuditEntry.subject_type, flt.subject_type),
        (AuditEntry.subject_id, flt.subject_id),
        (AuditEntry.outcome, flt.outcome),
        (AuditEntry.request_id, flt.request_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if flt.action is not None:
        stmt = stmt.where(AuditEntry.action.startswith(flt.action))
    if flt.since is not None:
        stmt = stmt.where(AuditEntry.occurred_at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(AuditEntry.occurred_at < flt.until)
    return stmt


def search(
    session: Session, flt: EntryFilter, *, offset: int, limit: int
) -> tuple[list[AuditEntry], int]:
    stmt = _filtered(flt)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(AuditEntry.id.desc()).offset(offset).limit(limit))
    return list(rows), total


def iter_chain(session: Session, chain: int, *, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Every entry of one chain in ``seq`` order, as plain dicts, a batch at a time."""
    columns = list(ENTRY.columns)
    after = 0
    while True:
        rows = (
            session.execute(
                select(*columns)
                .where(ENTRY.c.chain == chain, ENTRY.c.seq > after)
                .order_by(ENTRY.c.seq)
                .limit(batch)
            )
            .mappings()
            .all()
        )
        if not rows:
            return
        for row in rows:
            yield dict(row)
        after = rows[-1]["seq"]


def subject_entries(
    session: Session,
    *,
    subject_type: str,
    subject_id: str,
    exclude_actor_id: str | None,
    offset: int,
    limit: int,
) -> tuple[list[AuditEntry], int]:
    """Entries about one subject, newest first, and how many there are in all."""
    stmt = select(AuditEntry).where(
        AuditEntry.subject_type == subject_type, AuditEntry.subject_id == subject_id
    )
    if exclude_actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id != exclude_actor_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    newest = stmt.order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
    return list(session.scalars(newest.offset(offset).limit(limit))), total
