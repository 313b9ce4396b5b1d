"""Every query on the outbox table.

Claims and finishes are compare-and-set updates: they only touch rows that are still due,
or still held under the caller's claim token (see :mod:`sscard.kit.outbox`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sscard.errors import ConfigurationError
from sscard.kit.outbox.models import MessageStatus, OutboxMessage
from sscard.kit.outbox.registry import Message


def _insert(session: Session) -> postgresql.Insert | sqlite.Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(OutboxMessage)
    if dialect == "sqlite":
        return sqlite.insert(OutboxMessage)
    raise ConfigurationError(f"the outbox supports PostgreSQL and SQLite, not {dialect}")


def insert_message(session: Session, *, values: dict[str, Any], key: str | None) -> int | None:
    """Insert a message; None when a message with the same destination and key exists."""
    stmt = _insert(session).values(**values)
    if key is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=["destination", "idempotency_key"])
    new_id = session.execute(stmt.returning(OutboxMessage.id)).scalar_one_or_none()
    return None if new_id is None else int(new_id)


def message_id_by_key(session: Session, *, destination: str, key: str | None) -> int:
    stmt = select(OutboxMessage.id).where(
        OutboxMessage.destination == destination, OutboxMessage.idempotency_key == key
    )
    return int(session.execute(stmt).scalar_one())


def _due(now: datetime) -> ColumnElement[bool]:
    m = OutboxMessage
    return or_(
        and_(m.status == MessageStatus.pending.value, m.next_attempt_at <= now),
        and_(m.status == MessageStatus.in_flight.value, m.lease_until <= now),
    )


def claim_due(
    session: Session, *, names: list[str], owner: str, now: datetime, limit: int, lease: float
) -> list[Message]:
    """Mark up to ``limit`` due messages of ``names`` in flight under ``owner``; oldest first."""
    m = OutboxMessage
    picked = (
        select(m.id)
        .where(_due(now), m.destination.in_(names))
        .order_by(m.next_attempt_at, m.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Lock in a statement of its own: with the locking subquery inside the UPDATE,
        # concurrent workers were seen coming back empty-handed while messages were due.
        ids = list(session.scalars(picked.with_for_update(skip_locked=True)))
        if not ids:
            return []
        chosen: ColumnElement[bool] = m.id.in_(ids)
    else:
        chosen = m.id.in_(picked)
    stmt = (
        update(m)
        .where(chosen, _due(now))
        .values(
            status=MessageStatus.in_flight.value,
            attempts=m.attempts + 1,
            lease_until=now + timedelta(seconds=lease),
            lease_owner=owner,
        )
        .returning(m.id, m.destination, m.payload, m.attempts, m.max_attempts, m.idempotency_key)
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(stmt).all()
    return sorted((Message(*row) for row in rows), key=lambda msg: msg.id)


def finish_claimed(session: Session, *, message_id: int, owner: str, **values: Any) -> bool:
    """Apply an outcome if ``owner``'s claim still holds; False if the lease was lost."""
    m = OutboxMessage
    stmt = (
        update(m)
        .where(
            m.id == message_id,
            m.lease_owner == owner,
            m.status == MessageStatus.in_flight.value,
        )
        .values(lease_until=None, **values)
        .returning(m.id)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).scalar_one_or_none() is not None


def release_claimed(session: Session, *, message_ids: Iterable[int], owner: str) -> int:
    """Hand unattempted claims back, due at once and their attempt uncounted; how many."""
    m = OutboxMessage
    stmt = (
        update(m)
        .where(
            m.id.in_(list(message_ids)),
            m.lease_owner == owner,
            m.status == MessageStatus.in_flight.value,
        )
        .values(status=MessageStatus.pending.value, attempts=m.attempts - 1, lease_until=None)
        .returning(m.id)
        .execution_options(synchronize_session=False)
    )
    return len(session.execute(stmt).all())


def message_by_id(session: Session, message_id: int) -> OutboxMessage | None:
    return session.get(OutboxMessage, message_id)


def messages(
    session: Session, *, status: str | None, destination: str | None, limit: int
) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    if destination is not None:
        query = query.where(OutboxMessage.destination == destination)
    return list(session.scalars(query))


def count_by_status(session: Session) -> dict[str, int]:
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    return {status: int(count) for status, count in session.execute(query)}


def delete_delivered_before(session: Session, cutoff: datetime) -> int:
    stmt = (
        delete(OutboxMessage)
        .where(
            OutboxMessage.status == MessageStatus.delivered.value,
            OutboxMessage.delivered_at < cutoff,
        )
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], session.execute(stmt)).rowcount
