"""Pure rules of the guards: how keys are stored, where a window starts, what a hit means."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

DEFAULT_NAMESPACE = "sscard"
MAX_KEY_LENGTH = 200


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    remaining: int
    retry_after_seconds: int
    """0 when allowed; else whole seconds until the window ends."""


def stored_key(namespace: str, kind: str, key: str) -> str:
    """``namespace:kind:key``, with a long key replaced by its SHA-256."""
    full = f"{namespace}:{kind}:{key}"
    if len(full) <= MAX_KEY_LENGTH:
        return full
    return f"{namespace}:{kind}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def window(now: datetime, window_seconds: int) -> tuple[datetime, datetime]:
    """Start and end of the fixed window (aligned to the epoch) that holds ``now``."""
    size = max(1, window_seconds)
    start = int(now.timestamp()) // size * size
    begins = datetime.fromtimestamp(start, UTC)
    return begins, begins + timedelta(seconds=size)


def decision(hits: int, limit: int, now: datetime, window_end: datetime) -> RateDecision:
    """Whether ``hits`` in the window ending at ``window_end`` are within ``limit``."""
    if hits <= limit:
        return RateDecision(True, limit - hits, 0)
    wait = math.ceil((window_end - now).total_seconds())
    return RateDecision(False, 0, max(1, wait))
