"""Single-use claims and rate limits: one-time QR codes, API nonces, login throttling.

Design overview
---------------
:class:`Guard` has two operations, both atomic however many processes ask at once:

- ``claim(key, ttl_seconds)`` is True for exactly one caller until the ttl has passed;
- ``hit(key, limit=, window_seconds=)`` counts a hit in a fixed window aligned to the epoch
  (``window_seconds`` long) and says whether it is within ``limit``.

:class:`RedisGuard` uses ``SET NX EX`` and a Lua ``INCR`` + ``EXPIRE``; its writes happen at
once, whatever becomes of the caller's transaction. :class:`DatabaseGuard` writes in the
caller's session with one ``INSERT ... ON CONFLICT`` statement each (claims take over an
expired row in the same statement), so on SQLite it never opens a second connection that
would wait for the caller's own write lock. Its writes belong to the caller's unit of work:
a rolled-back transaction releases its claims and un-counts its hits. A failure that must
still count (a wrong password) is recorded in a transaction that commits.

:func:`get_guard` picks Redis when ``SSCARD_REDIS_URL`` is set, else the database. Keys are
stored as ``<namespace>:<kind>:<key>`` (hashed when very long); :func:`purge_expired` deletes
database rows whose time has passed.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol, cast

import redis
from sqlalchemy import CursorResult, Index, Integer, PrimaryKeyConstraint, String, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from sscard.db import Base, utcnow
from sscard.errors import ConfigurationError
from sscard.kit.errors import GuardUnavailable
from sscard.settings import get_settings

DEFAULT_NAMESPACE = "sscard"
MAX_KEY_LENGTH = 200

Clock = Callable[[], datetime]


class KitClaim(Base):
    """A single-use claim; the row may be taken over once ``expires_at`` has passed."""

    __tablename__ = "kit_claim"
    __table_args__ = (Index("ix_kit_claim_expires_at", "expires_at"),)

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    claimed_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class KitRateWindow(Base):
    """Hits on one key in one fixed window."""

    __tablename__ = "kit_rate_window"
    __table_args__ = (
        PrimaryKeyConstraint("key", "window_started_at"),
        Index("ix_kit_rate_window_expires_at", "expires_at"),
    )

    key: Mapped[str] = mapped_column(String(255))
    window_started_at: Mapped[datetime]
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime]
    """End of the window: the row means nothing after it and may be purged."""


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    remaining: int
    retry_after_seconds: int
    """0 when allowed; else whole seconds until the window ends."""


class Guard(Protocol):
    def claim(self, key: str, ttl_seconds: int) -> bool:
        """True for the first claim of ``key`` within ``ttl_seconds``, False for every other."""
        ...

    def hit(self, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        """Count one hit on ``key`` and say whether it is within ``limit`` per window."""
        ...


def stored_key(namespace: str, kind: str, key: str) -> str:
    """``namespace:kind:key``, with a long key replaced by its SHA-256."""
    full = f"{namespace}:{kind}:{key}"
    if len(full) <= MAX_KEY_LENGTH:
        return full
    return f"{namespace}:{kind}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def _window(now: datetime, window_seconds: int) -> tuple[datetime, datetime]:
    size = max(1, window_seconds)
    start = int(now.timestamp()) // size * size
    begins = datetime.fromtimestamp(start, UTC)
    return begins, begins + timedelta(seconds=size)


def _decision(hits: int, limit: int, now: datetime, window_end: datetime) -> RateDecision:
    if hits <= limit:
        return RateDecision(True, limit - hits, 0)
    wait = math.ceil((window_end - now).total_seconds())
    return RateDecision(False, 0, max(1, wait))


def _insert(session: Session, entity: type[Base]) -> postgresql.Insert | sqlite.Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(entity)
    if dialect == "sqlite":
        return sqlite.insert(entity)
    raise ConfigurationError(f"the database guard supports PostgreSQL and SQLite, not {dialect}")


class DatabaseGuard:
    """Claims and rate windows in the caller's session and transaction."""

    def __init__(
        self, session: Session, *, namespace: str = DEFAULT_NAMESPACE, clock: Clock = utcnow
    ) -> None:
        self.session = session
        self.namespace = namespace
        self.clock = clock

    def claim(self, key: str, ttl_seconds: int) -> bool:
        """True for the first claim of ``key`` within ``ttl_seconds``, False for every other."""
        now = self.clock()
        fresh = {"claimed_at": now, "expires_at": now + timedelta(seconds=ttl_seconds)}
        insert = _insert(self.session, KitClaim).values(
            key=stored_key(self.namespace, "claim", key), **fresh
        )
        stmt = insert.on_conflict_do_update(
            index_elements=[KitClaim.key], set_=fresh, where=KitClaim.expires_at <= now
        ).returning(KitClaim.key)
        return self.session.execute(stmt).first() is not None

    def hit(self, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        """Count one hit on ``key`` and say whether it is within ``limit`` per window."""
        now = self.clock()
        begins, ends = _window(now, window_seconds)
        insert = _insert(self.session, KitRateWindow).values(
            key=stored_key(self.namespace, f"rate:{window_seconds}", key),
            window_started_at=begins,
            hits=1,
            expires_at=ends,
        )
        stmt = insert.on_conflict_do_update(
            index_elements=[KitRateWindow.key, KitRateWindow.window_started_at],
            set_={"hits": KitRateWindow.hits + 1},
        ).returning(KitRateWindow.hits)
        hits = int(self.session.execute(stmt).scalar_one())
        return _decision(hits, limit, now, ends)


_HIT_SCRIPT = """
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return hits
"""


@lru_cache(maxsize=8)
def _redis_client(url: str) -> redis.Redis:
    """One connection pool per URL for the whole process."""
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


class RedisGuard:
    """Claims with ``SET NX EX`` and rate windows with an atomic Lua ``INCR``/``EXPIRE``."""

    def __init__(
        self,
        url: str,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        clock: Clock = utcnow,
        client: redis.Redis | None = None,
    ) -> None:
        self.client = client or _redis_client(url)
        self.namespace = namespace
        self.clock = clock
        self._hit = self.client.register_script(_HIT_SCRIPT)

    def claim(self, key: str, ttl_seconds: int) -> bool:
        """True for the first claim of ``key`` within ``ttl_seconds``, False for every other."""
        name = stored_key(self.namespace, "claim", key)
        try:
            return bool(self.client.set(name, b"1", nx=True, ex=max(1, ttl_seconds)))
        except redis.RedisError as exc:
            raise GuardUnavailable(f"Redis cannot be reached: {type(exc).__name__}") from exc

    def hit(self, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        """Count one hit on ``key`` and say whether it is within ``limit`` per window."""
        now = self.clock()
        begins, ends = _window(now, window_seconds)
        base = stored_key(self.namespace, f"rate:{window_seconds}", key)
        name = f"{base}:{int(begins.timestamp())}"
        try:
            hits = int(self._hit(keys=[name], args=[max(1, window_seconds) + 1]))
        except redis.RedisError as exc:
            raise GuardUnavailable(f"Redis cannot be reached: {type(exc).__name__}") from exc
        return _decision(hits, limit, now, ends)


def get_guard(session: Session, *, namespace: str = DEFAULT_NAMESPACE) -> Guard:
    """Redis when ``settings.redis_url`` is set, else the database in ``session``."""
    url = get_settings().redis_url
    if url:
        return RedisGuard(url, namespace=namespace)
    return DatabaseGuard(session, namespace=namespace)


def purge_expired(session: Session, *, now: datetime | None = None) -> int:
    """Delete claims and rate windows whose time has passed; returns how many rows."""
    cutoff = now or utcnow()
    removed = 0
    for entity in (KitClaim, KitRateWindow):
        stmt = delete(entity).where(entity.expires_at <= cutoff)
        result = session.execute(stmt.execution_options(synchronize_session=False))
        removed += cast(CursorResult[Any], result).rowcount
    return removed
