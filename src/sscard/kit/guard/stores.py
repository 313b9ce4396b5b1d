"""The two guards, in the database or in Redis, and the choice between them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Protocol

import redis
from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.kit.errors import GuardUnavailable
from sscard.kit.guard import repository
from sscard.kit.guard.windows import DEFAULT_NAMESPACE, RateDecision, decision, stored_key, window
from sscard.settings import get_settings

Clock = Callable[[], datetime]


class Guard(Protocol):
    def claim(self, key: str, ttl_seconds: int) -> bool:
        """True for the first claim of ``key`` within ``ttl_seconds``, False for every other."""
        ...

    def hit(self, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        """Count one hit on ``key`` and say whether it is within ``limit`` per window."""
        ...

    def hits(self, key: str, *, window_seconds: int) -> int:
        """The hits counted on ``key`` in the current window, without counting one."""
        ...


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
        return repository.take_claim(
            self.session,
            key=stored_key(self.namespace, "claim", key),
            now=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
        )

    def hit(self, key: str, *, limit: int, window_seconds: int) -> RateDecision:
        """Count one hit on ``key`` and say whether it is within ``limit`` per window."""
        now = self.clock()
        begins, ends = window(now, window_seconds)
        hits = repository.count_hit(
            self.session,
            key=stored_key(self.namespace, f"rate:{window_seconds}", key),
            window_started_at=begins,
            ends=ends,
        )
        return decision(hits, limit, now, ends)

    def hits(self, key: str, *, window_seconds: int) -> int:
        """The hits counted on ``key`` in the current window, without counting one."""
        begins, _ends = window(self.clock(), window_seconds)
        return repository.hits_in(
            self.session,
            key=stored_key(self.namespace, f"rate:{window_seconds}", key),
            window_started_at=begins,
        )


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
        begins, ends = window(now, window_seconds)
        base = stored_key(self.namespace, f"rate:{window_seconds}", key)
        name = f"{base}:{int(begins.timestamp())}"
        try:
            hits = int(self._hit(keys=[name], args=[max(1, window_seconds) + 1]))
        except redis.RedisError as exc:
            raise GuardUnavailable(f"Redis cannot be reached: {type(exc).__name__}") from exc
        return decision(hits, limit, now, ends)

    def hits(self, key: str, *, window_seconds: int) -> int:
        """The hits counted on ``key`` in the current window, without counting one."""
        begins, _ends = window(self.clock(), window_seconds)
        base = stored_key(self.namespace, f"rate:{window_seconds}", key)
        try:
            found = self.client.get(f"{base}:{int(begins.timestamp())}")
        except redis.RedisError as exc:
            raise GuardUnavailable(f"Redis cannot be reached: {type(exc).__name__}") from exc
        return int(found) if found is not None else 0


def get_guard(session: Session, *, namespace: str = DEFAULT_NAMESPACE) -> Guard:
    """Redis when ``settings.redis_url`` is set, else the database in ``session``."""
    url = get_settings().redis_url
    if url:
        return RedisGuard(url, namespace=namespace)
    return DatabaseGuard(session, namespace=namespace)


def purge_expired(session: Session, *, now: datetime | None = None) -> int:
    """Delete claims and rate windows whose time has passed; returns how many rows."""
    return repository.delete_expired(session, now or utcnow())
