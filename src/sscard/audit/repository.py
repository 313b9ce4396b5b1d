"""Every query of the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sscard.audit.models import AuditChainHead, AuditEntry
from sscard.db import utcnow

HEAD_ID = 1


def lock_head(session: Session) -> AuditChainHead:
    head = session.scalars(
        select(AuditChainHead).where(AuditChainHead.id == HEAD_ID).with_for_update()
    ).one_or_none()
    if head is None:
        head = AuditChainHead(id=HEAD_ID, seq=0, entry_hash="0" * 64, updated_at=utcnow())
        session.add(head)
        session.flush()
    return head


def get_head(session: Session) -> AuditChainHead | None:
    return session.get(AuditChainHead, HEAD_ID)


@dataclass(frozen=True, slots=True)
class EntryFilter:
    actor_id: str | None = None
    actor_kind: str | None = None
    action: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    outcome: str | None = None
    request_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


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
    rows = session.scalars(stmt.order_by(AuditEntry.seq.desc()).offset(offset).limit(limit))
    return list(rows), total


def iter_chain(session: Session, *, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """Every entry in ``seq`` order, as plain dicts, a batch at a time."""
    columns = list(AuditEntry.__table__.columns)
    after = 0
    while True:
        rows = (
            session.execute(
                select(*columns).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(batch)
            )
            .mappings()
            .all()
        )
        if not rows:
            return
        for row in rows:
            yield dict(row)
        after = rows[-1]["seq"]
