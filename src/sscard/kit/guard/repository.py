"""Every statement of the database guard: one atomic ``INSERT ... ON CONFLICT`` each."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sscard.db import Base
from sscard.errors import ConfigurationError
from sscard.kit.guard.models import KitClaim, KitRateWindow


def _insert(session: Session, entity: type[Base]) -> postgresql.Insert | sqlite.Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(entity)
    if dialect == "sqlite":
        return sqlite.insert(entity)
    raise ConfigurationError(f"the database guard supports PostgreSQL and SQLite, not {dialect}")


def take_claim(session: Session, *, key: str, now: datetime, expires_at: datetime) -> bool:
    """Insert the claim, or take over an expired one; False while another holds it."""
    fresh = {"claimed_at": now, "expires_at": expires_at}
    insert = _insert(session, KitClaim).values(key=key, **fresh)
    stmt = insert.on_conflict_do_update(
        index_elements=[KitClaim.key], set_=fresh, where=KitClaim.expires_at <= now
    ).returning(KitClaim.key)
    return session.execute(stmt).first() is not None


def count_hit(session: Session, *, key: str, window_started_at: datetime, ends: datetime) -> int:
    """Add one hit to the window's row (created at 1); the hits counted so far."""
    insert = _insert(session, KitRateWindow).values(
        key=key, window_started_at=window_started_at, hits=1, expires_at=ends
    )
    stmt = insert.on_conflict_do_update(
        index_elements=[KitRateWindow.key, KitRateWindow.window_started_at],
        set_={"hits": KitRateWindow.hits + 1},
    ).returning(KitRateWindow.hits)
    return int(session.execute(stmt).scalar_one())


def hits_in(session: Session, *, key: str, window_started_at: datetime) -> int:
    """The hits of the window's row (0 if it has none)."""
    found = session.execute(
        select(KitRateWindow.hits).where(
            KitRateWindow.key == key, KitRateWindow.window_started_at == window_started_at
        )
    ).scalar_one_or_none()
    return int(found or 0)


def delete_expired(session: Session, cutoff: datetime) -> int:
    """Delete claims and rate windows that expired by ``cutoff``; how many rows."""
    removed = 0
    for entity in (KitClaim, KitRateWindow):
        stmt = delete(entity).where(entity.expires_at <= cutoff)
        result = session.execute(stmt.execution_options(synchronize_session=False))
        removed += cast(CursorResult[Any], result).rowcount
    return removed
