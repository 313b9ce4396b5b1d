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

Modules
-------
Read them in this order; callers import everything from ``sscard.kit.outbox``.

- ``models``: the ``kit_outbox_message`` table and :class:`MessageStatus`;
- ``registry``: destinations (name -> handler, retry policy) and housekeeping chores that
  components register from their ``wiring`` module;
- ``service``: :func:`enqueue` and the operator's use cases (list, show, retry, purge), all
  in the caller's transaction;
- ``delivery``: the worker (:func:`deliver_due`, :func:`run_worker`), which opens its own
  short transactions;
- ``repository``: every query on the table.
"""

from sscard.kit.errors import PermanentFailure
from sscard.kit.outbox.delivery import (
    DEFAULT_LEASE_SECONDS,
    DeliveryReport,
    backoff_seconds,
    deliver_due,
    run_worker,
)
from sscard.kit.outbox.models import DEFAULT_MAX_ATTEMPTS, MessageStatus, OutboxMessage
from sscard.kit.outbox.registry import (
    DeliveryHandler,
    Destination,
    HousekeepingJob,
    Message,
    destinations,
    housekeeping_jobs,
    housekeeping_registry,
    register_destination,
    register_housekeeping,
)
from sscard.kit.outbox.service import (
    counts_by_status,
    enqueue,
    get_message,
    list_messages,
    purge_delivered,
    retry_dead,
)

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "DEFAULT_MAX_ATTEMPTS",
    "DeliveryHandler",
    "DeliveryReport",
    "Destination",
    "HousekeepingJob",
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
    "housekeeping_registry",
    "list_messages",
    "purge_delivered",
    "register_destination",
    "register_housekeeping",
    "retry_dead",
    "run_worker",
]
