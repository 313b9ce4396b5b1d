"""Outbox use cases in the caller's transaction: enqueue, inspect, retry, purge."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.kit.errors import OutboxMessageNotDead, OutboxMessageNotFound, OutboxPayloadInvalid
from sscard.kit.outbox import repository
from sscard.kit.outbox.models import DEFAULT_MAX_ATTEMPTS, MessageStatus, OutboxMessage
from sscard.kit.outbox.registry import registered_destinations


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
    known = registered_destinations().get(destination)
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
    new_id = repository.insert_message(session, values=values, key=key)
    if new_id is not None:
        return new_id
    return repository.message_id_by_key(session, destination=destination, key=key)


def get_message(session: Session, message_id: int) -> OutboxMessage:
    """The message with ``message_id``, or :class:`OutboxMessageNotFound`."""
    message = repository.message_by_id(session, message_id)
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
    wanted = MessageStatus(status).value if status is not None else None
    return repository.messages(session, status=wanted, destination=destination, limit=limit)


def counts_by_status(session: Session) -> dict[str, int]:
    """Number of messages per status, every status present (for metrics and health)."""
    counts = dict.fromkeys((s.value for s in MessageStatus), 0)
    counts.update(repository.count_by_status(session))
    return counts


def purge_delivered(
    session: Session, *, older_than: timedelta = timedelta(days=7), now: datetime | None = None
) -> int:
    """Delete messages delivered before ``now - older_than``; returns how many."""
    return repository.delete_delivered_before(session, (now or utcnow()) - older_than)
