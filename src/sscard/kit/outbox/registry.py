"""What this process can deliver and which chores its worker runs.

Components register their destinations and housekeeping chores from their ``wiring``
module; the registries are per process and guarded by one lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from sscard.errors import ConfigurationError
from sscard.kit.errors import DestinationAlreadyRegistered
from sscard.kit.outbox.models import DEFAULT_MAX_ATTEMPTS


@dataclass(frozen=True, slots=True)
class Message:
    """What a destination handler receives: one attempt at one message."""

    id: int
    destination: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    key: str | None


DeliveryHandler = Callable[[Message], None]


@dataclass(frozen=True, slots=True)
class Destination:
    name: str
    handler: DeliveryHandler
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    base_delay_seconds: float = 2
    max_delay_seconds: float = 600


HousekeepingJob = Callable[[Session], int]
"""A periodic chore the worker runs in its own transaction; returns how many rows it touched."""

_lock = threading.Lock()
_destinations: dict[str, Destination] = {}
_housekeeping: dict[str, HousekeepingJob] = {}


def register_destination(
    name: str,
    handler: DeliveryHandler,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    base_delay_seconds: float = 2,
    max_delay_seconds: float = 600,
) -> None:
    """Let workers of this process deliver messages for ``name`` with ``handler``."""
    if not name or len(name) > 64:
        raise ConfigurationError(f"destination name must have 1 to 64 characters: {name!r}")
    if max_attempts < 1 or base_delay_seconds <= 0 or max_delay_seconds < base_delay_seconds:
        raise ConfigurationError(f"retry settings of destination {name!r} make no sense")
    with _lock:
        known = _destinations.get(name)
        if known is not None and known.handler is not handler:
            raise DestinationAlreadyRegistered(f"destination {name!r} already has a handler")
        _destinations[name] = Destination(
            name, handler, max_attempts, base_delay_seconds, max_delay_seconds
        )


def registered_destinations() -> dict[str, Destination]:
    """The registered destinations by name (a copy)."""
    with _lock:
        return dict(_destinations)


@contextmanager
def destinations(*, keep_existing: bool = False) -> Iterator[None]:
    """Within the block, start from no destinations (or the current ones); restore after."""
    with _lock:
        saved = dict(_destinations)
        if not keep_existing:
            _destinations.clear()
    try:
        yield
    finally:
        with _lock:
            _destinations.clear()
            _destinations.update(saved)


def register_housekeeping(name: str, job: HousekeepingJob) -> None:
    """Let workers run ``job`` with their housekeeping (once an hour, and with ``--once``).

    Components register the chores that must happen without anyone asking: the lapse of
    temporary card losses, for one. Registering the same name again replaces the job.
    """
    if not name or len(name) > 64:
        raise ConfigurationError(f"housekeeping job name must have 1 to 64 characters: {name!r}")
    with _lock:
        _housekeeping[name] = job


def housekeeping_jobs() -> dict[str, HousekeepingJob]:
    """The registered housekeeping jobs by name, in registration order."""
    with _lock:
        return dict(_housekeeping)


@contextmanager
def housekeeping_registry(*, keep_existing: bool = True) -> Iterator[None]:
    """Within the block, register chores freely (from the current ones, or none); restore after."""
    with _lock:
        saved = dict(_housekeeping)
        if not keep_existing:
            _housekeeping.clear()
    try:
        yield
    finally:
        with _lock:
            _housekeeping.clear()
            _housekeeping.update(saved)
