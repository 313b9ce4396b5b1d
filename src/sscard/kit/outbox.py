"""Transactional outbox: deliveries to external systems after commit, at least once.

Design overview
---------------
A service that must tell the outside world something (the bank: card lost; the province:
card made) calls :func:`enqueue` in its own transaction. The message row commits or rolls
back with the business change, so nothing is sent for work that did not happen and nothing
is lost for work that did.

A worker (:func:`run_worker`, ``sscard worker``) then calls :func:`deliver_due` in a loop:

1. *claim*: one short transaction marks up to ``limit`` due messages ``in_flight`` with a
   lease and a claim token (PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` inside the
   ``UPDATE``; SQLite: the same ``UPDATE`` is an atomic compare-and-set because SQLite has
   one writer). ``attempts`` grows on every claim, so a message that crashes its worker
   still runs out of attempts;
2. *deliver*: the destination's handler runs outside any transaction;
3. *finish*: one short transaction marks the message ``delivered``, or ``pending`` again
   with an exponential, jittered delay, or ``dead`` after ``max_attempts`` or a
   :class:`PermanentFailure`. The update only applies while the claim token still holds.

A worker that dies between 1 and 3 leaves its messages ``in_flight``; once the lease has
expired any worker claims them again. Delivery is therefore **at least once**: a handler
may see the same message twice (crash after sending, lease shorter than the call) and must
be idempotent, for instance by sending ``message.key`` or ``message.id`` as the
idempotency key of the external call.

Status moves: ``pending -> in_flight -> delivered | pending | dead``; ``dead -> pending``
only by :func:`retry_dead` (an operator's decision).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ColumnElement,
    CursorResult,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from sscard import db
from sscard.db import Base, BigIntPK, utcnow
from sscard.errors import ConfigurationError
from sscard.kit.errors import (
    DestinationAlreadyRegistered,
    OutboxMessageNotDead,
    OutboxMessageNotFound,
    OutboxPayloadInvalid,
    PermanentFailure,
)
from sscard.kit.masking import mask_text

__all__ = [
    "DeliveryReport",
    "Destination",
    "Message",
    "MessageStatus",
    "OutboxMessage",
    "PermanentFailure",
    "backoff_seconds",
    "counts_by_status",
    "deliver_due",
    "destinations",
    "enqueue",
    "get_message",
    "housekeeping_jobs",
    "list_messages",
    "purge_delivered",
    "register_destination",
    "register_housekeeping",
    "retry_dead",
    "run_worker",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_LEASE_SECONDS = 120
LAST_ERROR_LENGTH = 300


class MessageStatus(StrEnum):
    pending = "pending"
    in_flight = "in_flight"
    delivered = "delivered"
    dead = "dead"


class OutboxMessage(Base):
    """One delivery to one external destination."""

    __tablename__ = "kit_outbox_message"
    __table_args__ = (
        UniqueConstraint("destination", "idempotency_key"),
        CheckConstraint("status IN ('pending', 'in_flight', 'delivered', 'dead')", name="status"),
        Index("ix_kit_outbox_message_due", "status", "next_attempt_at"),
        Index("ix_kit_outbox_message_lease", "status", "lease_until"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    destination: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(
        JSON().with_variant(postgresql.JSONB(), "postgresql")
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    """Unique per destination when given: enqueueing the same key again is a no-op."""
    status: Mapped[str] = mapped_column(String(16))
    """A :class:`MessageStatus`; see the module docstring for the allowed moves."""
    attempts: Mapped[int] = mapped_column(Integer)
    """Claims so far, counted when claimed (an attempt that crashed its worker counts)."""
    max_attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    """While ``in_flight``: the claim is valid until then, after which anyone may re-claim."""
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    """Claim token of the worker round that claimed the message last."""
    last_error: Mapped[str | None] = mapped_column(String(LAST_ERROR_LENGTH))
    """Exception type and masked message of the last failure; never the payload."""
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


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


HousekeepingJob = Callable[[Session], int]
"""A periodic chore the worker runs in its own transaction; returns how many rows it touched."""

_lock = threading.Lock()
_destinations: dict[str, Destination] = {}
_housekeeping: dict[str, HousekeepingJob] = {}
_random = secrets.SystemRandom()


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


def _registered() -> dict[str, Destination]:
    with _lock:
        return dict(_destinations)


def _insert(session: Session) -> postgresql.Insert | sqlite.Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(OutboxMessage)
    if dialect == "sqlite":
        return sqlite.insert(OutboxMessage)
    raise ConfigurationError(f"the outbox supports PostgreSQL and SQLite, not {dialect}")


def _checked_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    try:
        json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise OutboxPayloadInvalid(f"outbox payload is not JSON: {type(exc).__name__}") from exc
    return dict(payload)


def enqueue(
    session: Session,
    *,
    destination: str,
    payload: Mapping[str, Any],
    key: str | None = None,
    delay_seconds: float = 0,
    max_attempts: int | None = None,
) -> int:
    """Store a delivery in the caller's transaction; the same destination+key gives one id."""
    now = utcnow()
    known = _registered().get(destination)
    values = {
        "destination": destination,
        "payload": _checked_payload(payload),
        "idempotency_key": key,
        "status": MessageStatus.pending.value,
        "attempts": 0,
        "max_attempts": max_attempts or (known.max_attempts if known else DEFAULT_MAX_ATTEMPTS),
        "next_attempt_at": now + timedelta(seconds=delay_seconds),
        "created_at": now,
    }
    stmt = _insert(session).values(**values)
    if key is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=["destination", "idempotency_key"])
    new_id = session.execute(stmt.returning(OutboxMessage.id)).scalar_one_or_none()
    if new_id is not None:
        return int(new_id)
    existing = select(OutboxMessage.id).where(
        OutboxMessage.destination == destination, OutboxMessage.idempotency_key == key
    )
    return int(session.execute(existing).scalar_one())


def backoff_seconds(
    attempt: int, *, base: float, cap: float, rand: Callable[[float, float], float] | None = None
) -> float:
    """Delay after failed ``attempt``: ``base * 2**(attempt-1)`` jittered into its upper half.

    The jitter is drawn before the cap is applied, so delays never shrink from one attempt
    to the next and end at ``cap``.
    """
    ceiling = base * 2.0 ** min(max(attempt - 1, 0), 62)
    return min(cap, (rand or _random.uniform)(ceiling / 2, ceiling))


def _due(now: datetime) -> ColumnElement[bool]:
    m = OutboxMessage
    return or_(
        and_(m.status == MessageStatus.pending.value, m.next_attempt_at <= now),
        and_(m.status == MessageStatus.in_flight.value, m.lease_until <= now),
    )


def _claim(
    session: Session, *, names: list[str], owner: str, now: datetime, limit: int, lease: float
) -> list[Message]:
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


def _finish(message: Message, owner: str, **values: Any) -> bool:
    """Apply the outcome if our claim still holds; False if the lease was lost meanwhile."""
    m = OutboxMessage
    stmt = (
        update(m)
        .where(
            m.id == message.id,
            m.lease_owner == owner,
            m.status == MessageStatus.in_flight.value,
        )
        .values(lease_until=None, **values)
        .returning(m.id)
        .execution_options(synchronize_session=False)
    )
    with db.transaction() as session:
        return session.execute(stmt).scalar_one_or_none() is not None


def _short_error(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {mask_text(str(exc))}".replace("\n", " ")
    return text[:LAST_ERROR_LENGTH]


def _failed(
    message: Message, destination: Destination, owner: str, exc: Exception, now: datetime
) -> str:
    error = _short_error(exc)
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
    m = OutboxMessage
    stmt = (
        update(m)
        .where(
            m.id.in_([msg.id for msg in messages]),
            m.lease_owner == owner,
            m.status == MessageStatus.in_flight.value,
        )
        .values(status=MessageStatus.pending.value, attempts=m.attempts - 1, lease_until=None)
        .returning(m.id)
        .execution_options(synchronize_session=False)
    )
    with db.transaction() as session:
        return len(session.execute(stmt).all())


def default_worker_id() -> str:
    """``host:pid:thread``, shown in claim tokens and log lines."""
    name = f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"
    return name[:80]


def deliver_due(
    *,
    limit: int = 100,
    now: datetime | None = None,
    worker_id: str | None = None,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    stop: threading.Event | None = None,
) -> DeliveryReport:
    """Claim up to ``limit`` due messages of registered destinations and deliver them."""
    registered = _registered()
    report = DeliveryReport()
    if not registered or limit < 1:
        return report
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    owner = f"{worker_id or default_worker_id()}/{secrets.token_hex(4)}"
    with db.transaction() as session:
        claimed = _claim(
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
            logger.error("outbox delivery round failed: %s", _short_error(exc))
            report = DeliveryReport()
        if report.claimed < limit:
            stop.wait(poll_seconds)
    logger.info("outbox worker %s stopped", worker_id)


def _housekeep(action: Callable[[], object]) -> None:
    try:
        action()
    except Exception as exc:
        logger.error("outbox housekeeping failed: %s", _short_error(exc))


def get_message(session: Session, message_id: int) -> OutboxMessage:
    """The message with ``message_id``, or :class:`OutboxMessageNotFound`."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise OutboxMessageNotFound(f"outbox message {message_id} does not exist")
    return message


def retry_dead(session: Session, message_id: int) -> OutboxMessage:
    """Give a dead message a fresh set of attempts, due now."""
    message = get_message(session, message_id)
    if message.status != MessageStatus.dead.value:
        raise OutboxMessageNotDead(
            f"outbox message {message_id} is {message.status}, only dead messages are retried"
        )
    message.status = MessageStatus.pending.value
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.lease_until = None
    session.flush()
    return message


def list_messages(
    session: Session,
    *,
    status: MessageStatus | str | None = None,
    destination: str | None = None,
    limit: int = 50,
) -> list[OutboxMessage]:
    """Newest messages first, optionally of one status and one destination."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMessage.status == MessageStatus(status).value)
    if destination is not None:
        query = query.where(OutboxMessage.destination == destination)
    return list(session.scalars(query))


def counts_by_status(session: Session) -> dict[str, int]:
    """Number of messages per status, every status present (for metrics and health)."""
    counts = dict.fromkeys((s.value for s in MessageStatus), 0)
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    for status, count in session.execute(query):
        counts[status] = int(count)
    return counts


def purge_delivered(
    session: Session, *, older_than: timedelta = timedelta(days=7), now: datetime | None = None
) -> int:
    """Delete messages delivered before ``now - older_than``; returns how many."""
    cutoff = (now or utcnow()) - older_than
    stmt = (
        delete(OutboxMessage)
        .where(
            OutboxMessage.status == MessageStatus.delivered.value,
            OutboxMessage.delivered_at < cutoff,
        )
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], session.execute(stmt)).rowcount
