"""Errors of the shared kit: the event bus, the outbox and the guards."""

from __future__ import annotations

from sscard.errors import Conflict, NotFound, SSCardError


class EventLoopDetected(SSCardError):
    """Subscribers published events deeper than the bus allows (almost surely a cycle)."""

    status_code = 500
    code = "event_loop_detected"


class UnitOfWorkAborted(SSCardError):
    """A subscriber failed earlier in this transaction, so it must not commit."""

    status_code = 500
    code = "unit_of_work_aborted"


class OutboxMessageNotFound(NotFound):
    code = "outbox_message_not_found"


class OutboxMessageNotDead(Conflict):
    code = "outbox_message_not_dead"


class OutboxPayloadInvalid(SSCardError):
    """The payload cannot be stored as JSON (a programming error, not bad input)."""

    status_code = 500
    code = "outbox_payload_invalid"


class DestinationAlreadyRegistered(SSCardError):
    status_code = 500
    code = "destination_already_registered"


class PermanentFailure(SSCardError):
    """Raised by an outbox handler when retrying cannot help: the message is dead-lettered."""

    status_code = 502
    code = "permanent_delivery_failure"


class GuardUnavailable(SSCardError):
    """The store behind replay and rate guards (Redis) cannot be reached."""

    status_code = 503
    code = "guard_unavailable"
