"""Single-use claims and rate limits: one-time QR codes, API nonces, login throttling.

Design overview
---------------
:class:`Guard` has two operations, both atomic however many processes ask at once:

- ``claim(key, ttl_seconds)`` is True for exactly one caller until the ttl has passed;
- ``hit(key, limit=, window_seconds=)`` counts a hit in a fixed window aligned to the epoch
  (``window_seconds`` long) and says whether it is within ``limit``;
- ``hits(key, window_seconds=)`` reads the current window's count without adding to it
  (for limits on failures: check before trying, count only what failed).

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

Modules
-------
Callers import from ``sscard.kit.guard``. ``stores`` holds the two guards and
:func:`get_guard`; ``windows`` the pure rules (stored keys, fixed windows, decisions);
``models`` the two tables of :class:`DatabaseGuard`; ``repository`` its statements.
"""

from sscard.kit.guard.models import KitClaim, KitRateWindow
from sscard.kit.guard.stores import (
    DatabaseGuard,
    Guard,
    RedisGuard,
    get_guard,
    purge_expired,
)
from sscard.kit.guard.windows import DEFAULT_NAMESPACE, RateDecision, stored_key

__all__ = [
    "DEFAULT_NAMESPACE",
    "DatabaseGuard",
    "Guard",
    "KitClaim",
    "KitRateWindow",
    "RateDecision",
    "RedisGuard",
    "get_guard",
    "purge_expired",
    "stored_key",
]
