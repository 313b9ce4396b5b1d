"""Throttling of e-card PIN logins: a stranger who knows an ID number is slowed and then
stopped long before the holder's e-card PIN locks.

Design overview
===============
Every failed try to open an e-card with its PIN (``POST /ecard/sessions``, the wallet's
login, the consent page) counts against three keys, each in fixed windows that grow
sixtyfold and more (a back-off: once the minute's allowance is spent the wait is the rest of
the minute, then of the hour, then of the day); successful logins do not count:

- the ID number typed (all sources): 3 a minute, 5 an hour, 8 a day;
- the source (client address) and that ID number: 3 a minute, 4 an hour, 5 a day;
- the source (all ID numbers): 30 a minute, 100 an hour, 300 a day (one address may be a
  channel app's server speaking for many residents).

The e-card's own lock (``SSCARD_ECARD_MAX_PIN_FAILURES``, 10 by default) is more than a day
of failures on one ID number, from however many sources: a stranger cannot lock a holder's
e-card at will, and the holder unlocks it with the identity checks of signing
(``service.reset_pin``). The ID number is kept in a key only as an HMAC-SM3 under a key of
the key store, and the same keys count for unregistered numbers, so a refusal (429) tells
nothing about registration. The allowances are checked before the PIN is; a failure is
counted after the request's rollback with the database guard (in a transaction of its own),
at once with Redis.
"""

from __future__ import annotations

import math

from sqlalchemy.orm import Session

from sscard import db
from sscard.crypto import primitives
from sscard.crypto import service as crypto_service
from sscard.db import utcnow
from sscard.errors import SSCardError
from sscard.kit import context
from sscard.kit.guard import DatabaseGuard, Guard, get_guard, windows

NAMESPACE = "ecard-login"
KEY_NAME = "ecard-copy-root"
MINUTE, HOUR, DAY = 60, 3600, 86400
PER_ID_NUMBER = ((MINUTE, 3), (HOUR, 5), (DAY, 8))
PER_SOURCE_AND_ID_NUMBER = ((MINUTE, 3), (HOUR, 4), (DAY, 5))
PER_SOURCE = ((MINUTE, 30), (HOUR, 100), (DAY, 300))


class TooManyTries(SSCardError):
    status_code = 429
    code = "too_many_requests"

    def __init__(self, seconds: int) -> None:
        super().__init__(f"尝试次数过多，请 {_wait_words(seconds)}后再试")


def _wait_words(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} 秒"
    if seconds < 2 * HOUR:
        return f"{seconds // 60 + 1} 分钟"
    return f"{seconds // HOUR + 1} 小时"


def _id_key(session: Session, id_number: str) -> str:
    secret = crypto_service.derive_key(
        session, name=KEY_NAME, context=b"ecard-login-throttle", length=32
    ).key
    return primitives.sm3_hmac(secret, id_number.strip().upper().encode()).hex()[:40]


def _plan(session: Session, id_number: str) -> list[tuple[str, int, int]]:
    source = context.current().client_ip or "unknown"
    person = _id_key(session, id_number)
    keys = (
        (f"id:{person}", PER_ID_NUMBER),
        (f"src:{source}:id:{person}", PER_SOURCE_AND_ID_NUMBER),
        (f"src:{source}", PER_SOURCE),
    )
    return [(key, window, limit) for key, tiers in keys for window, limit in tiers]


def check(session: Session, *, id_number: str) -> list[tuple[str, int, int]]:
    """TooManyTries while any allowance of the ID number or the source is spent; else the
    keys that a failure of this try must count (:func:`failed`)."""
    plan = _plan(session, id_number)
    guard = get_guard(session, namespace=NAMESPACE)
    waits = [
        _seconds_left(window)
        for key, window, limit in plan
        if guard.hits(key, window_seconds=window) >= limit
    ]
    if waits:
        raise TooManyTries(max(waits))
    return plan


def _seconds_left(window_seconds: int) -> int:
    now = utcnow()
    _begins, ends = windows.window(now, window_seconds)
    return max(1, math.ceil((ends - now).total_seconds()))


def failed(session: Session, plan: list[tuple[str, int, int]]) -> None:
    """Count a failed try on every key of ``plan``; it survives the request's rollback."""

    def count(guard: Guard) -> None:
        for key, window, limit in plan:
            guard.hit(key, limit=limit, window_seconds=window)

    guard = get_guard(session, namespace=NAMESPACE)
    if isinstance(guard, DatabaseGuard):
        db.after_rollback(session, lambda fresh: count(DatabaseGuard(fresh, namespace=NAMESPACE)))
    else:
        count(guard)  # Redis counts at once, whatever becomes of the transaction
