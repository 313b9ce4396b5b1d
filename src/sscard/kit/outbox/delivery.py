"""The delivery worker: claim due messages, run their handlers, record the outcome.

Unit of work: this module opens its own short transactions (``sscard.db.transaction()``),
one to claim a round of messages and one per outcome, and runs every handler outside any
transaction, so that a slow external call never holds a database lock. See
:mod:`sscard.kit.outbox` for the claim, lease and retry rules.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sscard import db
from sscard.db import utcnow
from sscard.kit.errors import PermanentFailure
from sscard.kit.masking import mask_text
from sscard.kit.outbox import repository
from sscard.kit.outbox.models import LAST_ERROR_LENGTH, MessageStatus
from sscard.kit.outbox.registry import Destination, Message, registered_destinations

logger = logging.getLogger("sscard.kit.outbox")

DEFAULT_LEASE_SECONDS = 120

_random = secrets.SystemRandom()


@dataclass
class DeliveryReport:
    """What one :func:`deliver_due` round did."""

    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    lost: int = 0
    """Finished after another worker had re-claimed the message (lease too short)."""
    released: int = 0
    """Handed back unattempted because the worker was asked to stop."""


def backoff_seconds(
    attempt: int, *, base: float, cap: float, rand: Callable[[float, float], float] | None = None
) -> float:
    """Delay after failed ``attempt``: ``base * 2**(attempt-1)`` jittered into its upper half.

    The jitter is drawn before the cap is applied, so delays never shrink from one attempt
    to the next and end at ``cap``.
    """
    ceiling = base * 2.0 ** min(max(attempt - 1, 0), 62)
    return min(cap, (rand or _random.uniform)(ceiling / 2, ceiling))


def default_worker_id() -> str:
    """``host:pid:thread``, shown in claim tokens and log lines."""
    name = f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"
    return name[:80]


def short_error(exc: BaseException) -> str:
    """Exception type and masked message, on one line, short enough for ``last_error``."""
    text = f"{type(exc).__name__}: {mask_text(str(exc))}".replace("\n", " ")
    return text[:LAST_ERROR_LENGTH]


def _finish(message: Message, owner: str, **values: Any) -> bool:
    """Apply the outcome if our claim still holds; False if the lease was lost meanwhile."""
    with db.transaction() as session:
        return repository.finish_claimed(session, message_id=message.id, owner=owner, **values)


def _failed(
    message: Message, destination: Destination, owner: str, exc: Exception, now: datetime
) -> str:
    error = short_error(exc)
    tag = f"id={message.id} destination={message.destination} attempt={message.attempt}"
    if isinstance(exc, PermanentFailure) or message.attempt >= message.max_attempts:
        if not _finish(message, owner, status=MessageStatus.dead.value, last_error=error):
            return "lost"
        logger.warning("outbox dead %s error=%s", tag, error)
        return "dead"
    delay = backoff_seconds(
        message.attempt, base=destination.base_delay_seconds, cap=destination.max_delay_seconds
    )
    retry_at = now + timedelta(seconds=delay)
    status = MessageStatus.pending.value
    if not _finish(message, owner, status=status, next_attempt_at=retry_at, last_error=error):
        return "lost"
    logger.info("outbox retry %s next_in=%.1fs error=%s", tag, delay, error)
    return "retried"


def _deliver_one(
    message: Message, destination: Destination, owner: str, clock: Callable[[], datetime]
) -> str:
    try:
        if message.attempt > message.max_attempts:
            raise PermanentFailure("the last attempt was interrupted (its lease expired)")
        destination.handler(message)
    except Exception as exc:
        return _failed(message, destination, owner, exc, clock())
    delivered = MessageStatus.delivered.value
    if not _finish(message, owner, status=delivered, delivered_at=clock()):
        return "lost"
    logger.info(
        "outbox delivered id=%s destination=%s attempt=%s",
        message.id,
        message.destination,
        message.attempt,
    )
    return "delivered"


def _release(messages: list[Message], owner: str) -> int:
    """Give unattempted claims back (the worker is stopping); they are due at once."""
    with db.transaction() as session:
        return repository.release_claimed(
            session, message_ids=[msg.id for msg in messages], owner=owner
        )


def deliver_due(
    *,
    limit: int = 100,
    now: datetime | None = None,
    worker_id: str | None = None,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    stop: threading.Event | None = None,
) -> DeliveryReport:
    """Claim up to ``limit`` due messages of registered destinations and deliver them."""
    registered = registered_destinations()
    report = DeliveryReport()
    if not registered or limit < 1:
        return report
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    owner = f"{worker_id or default_worker_id()}/{secrets.token_hex(4)}"
    with db.transaction() as session:
        claimed = repository.claim_due(
            session,
            names=sorted(registered),
            owner=owner,
            now=clock(),
            limit=limit,
            lease=lease_seconds,
        )
    report.claimed = len(claimed)
    for index, message in enumerate(claimed):
        if stop is not None and stop.is_set():
            report.released = _release(claimed[index:], owner)
            break
        outcome = _deliver_one(message, registered[message.destination], owner, clock)
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def run_worker(
    stop: threading.Event,
    poll_seconds: float = 1.0,
    *,
    limit: int = 100,
    worker_id: str | None = None,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    housekeeping: Callable[[], object] | None = None,
    housekeeping_seconds: float = 3600,
) -> None:
    """Deliver due messages until ``stop`` is set, resting ``poll_seconds`` when idle."""
    worker_id = worker_id or default_worker_id()
    logger.info("outbox worker %s started", worker_id)
    next_housekeeping = 0.0
    while not stop.is_set():
        if housekeeping is not None and time.monotonic() >= next_housekeeping:
            _housekeep(housekeeping)
            next_housekeeping = time.monotonic() + housekeeping_seconds
        try:
            report = deliver_due(
                limit=limit, worker_id=worker_id, lease_seconds=lease_seconds, stop=stop
            )
        except Exception as exc:
            logger.error("outbox delivery round failed: %s", short_error(exc))
            report = DeliveryReport()
        if report.claimed < limit:
            stop.wait(poll_seconds)
    logger.info("outbox worker %s stopped", worker_id)


def _housekeep(action: Callable[[], object]) -> None:
    try:
        action()
    except Exception as exc:
        logger.error("outbox housekeeping failed: %s", short_error(exc))
