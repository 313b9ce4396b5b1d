"""One bounded, thread-safe cache for the platform's hot paths (per process).

Design overview
===============
- :class:`TTLCache` holds at most ``max_entries`` values; putting one more evicts the least
  recently used (a read or a write makes an entry the most recent).
- Every entry lives ``ttl`` seconds from the time it was put (``None``: until evicted or
  cleared). Time is read from a monotonic clock, which a test may replace.
- A lock is held around every read and write. :meth:`TTLCache.get_or_load` runs the loader
  outside the lock (it may query a database) and keeps the first value stored for the key,
  so callers that race get one answer and the lock is never held during I/O.
- A cached ``None`` is a value (for example "no such copy"), told apart from a miss.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING = object()


class TTLCache(Generic[K, V]):
    """At most ``max_entries`` values, each for ``ttl`` seconds, least recently used out first."""

    def __init__(
        self,
        *,
        max_entries: int,
        ttl: float | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        if ttl is not None and ttl <= 0:
            raise ValueError("ttl must be positive (or None for no expiry)")
        self.max_entries = max_entries
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def _expiry(self) -> float:
        return float("inf") if self.ttl is None else self._clock() + self.ttl

    def _lookup(self, key: K) -> object:
        """The live value of ``key`` or ``_MISSING``; the caller holds the lock."""
        hit = self._entries.get(key)
        if hit is None:
            return _MISSING
        if hit[0] <= self._clock():
            del self._entries[key]
            return _MISSING
        self._entries.move_to_end(key)
        return hit[1]

    def _store(self, key: K, value: V) -> None:
        """Store ``value``, evicting the least recently used; the caller holds the lock."""
        self._entries[key] = (self._expiry(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def get(self, key: K, default: V | None = None) -> V | None:
        """The live value of ``key``, or ``default``."""
        with self._lock:
            found = self._lookup(key)
        return default if found is _MISSING else found  # type: ignore[return-value]

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return self._lookup(key) is not _MISSING  # type: ignore[arg-type]

    def put(self, key: K, value: V) -> None:
        """Store ``value`` for ``key`` (its time to live starts now)."""
        with self._lock:
            self._store(key, value)

    def pop(self, key: K) -> V | None:
        """Forget ``key``; its live value, or None."""
        with self._lock:
            found = self._lookup(key)
            self._entries.pop(key, None)
        return None if found is _MISSING else found  # type: ignore[return-value]

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get_or_load(self, key: K, loader: Callable[[], V]) -> V:
        """The live value of ``key``, else ``loader()`` stored; racing callers share the
        first value stored."""
        with self._lock:
            found = self._lookup(key)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        loaded = loader()
        with self._lock:
            found = self._lookup(key)
            if found is not _MISSING:
                return found  # type: ignore[return-value]
            self._store(key, loaded)
        return loaded
