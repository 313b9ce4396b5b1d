"""In-process domain events: reactions across components inside one unit of work.

Design overview
---------------
A component announces a fact (``issuance.card_reported_lost``) with :func:`publish`; every
component that reacts to it has subscribed a handler at start-up (``register_subscribers`` in
its service module, called by ``sscard.bootstrap.wire``). Handlers run synchronously, in
subscription order, in the caller's session and transaction:

- a handler's writes commit or roll back together with the publisher's;
- an exception in a handler propagates to the publisher and aborts the whole unit of work;
  the session is marked so that even a caller who swallows the exception cannot commit
  half of it (:class:`~sscard.kit.errors.UnitOfWorkAborted`);
- a handler may publish further events; they run depth-first, before the handler returns,
  and a chain deeper than :data:`MAX_DEPTH` is refused as a loop.

Anything that must leave the process (a bank, the province) goes through the outbox, not
through a handler: see ``docs/events.md``.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any, ClassVar, TypeVar

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

from sscard.db import utcnow
from sscard.kit.errors import EventLoopDetected, UnitOfWorkAborted

MAX_DEPTH = 8
"""How deep events published by handlers may nest before the bus calls it a loop."""

STATE_KEY = "sscard.kit.events"

E = TypeVar("E", bound="Event")
Handler = Callable[[Session, Any], None]


@dataclass(frozen=True, kw_only=True)
class Event:
    """A fact that happened; subclasses are frozen dataclasses with a stable ``name``.

    A family base that is never published itself says so: ``class CardEvent(Event,
    abstract=True)``; handlers subscribed to it receive every member of the family.
    """

    name: ClassVar[str] = "event"
    occurred_at: datetime = field(default_factory=utcnow)

    _by_name: ClassVar[dict[str, type[Event]]] = {}

    def __init_subclass__(cls, abstract: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if abstract:
            return
        if "name" not in cls.__dict__:
            raise TypeError(f"{cls.__qualname__} needs a stable `name`, e.g. 'issuance.x'")
        known = Event._by_name.get(cls.name)
        if known is not None and _origin(known) != _origin(cls):
            raise TypeError(f"event name {cls.name!r} is already used by {known.__qualname__}")
        Event._by_name[cls.name] = cls

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for an outbox payload or a log): name plus fields."""
        values = {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}
        return {"event": self.name, **values}


def _origin(cls: type) -> tuple[str, str]:
    return cls.__module__, cls.__qualname__


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list | frozenset | set):
        return [_jsonable(v) for v in value]
    return value


_lock = threading.Lock()
_subscribers: list[tuple[type[Event], Handler]] = []


def subscribe(event_type: type[E], handler: Callable[[Session, E], None]) -> None:
    """Call ``handler(session, event)`` for every published ``event_type`` (or subclass)."""
    with _lock:
        if (event_type, handler) not in _subscribers:
            _subscribers.append((event_type, handler))


def unsubscribe(event_type: type[E], handler: Callable[[Session, E], None]) -> None:
    """Forget one subscription (no error if it does not exist)."""
    with _lock:
        if (event_type, handler) in _subscribers:
            _subscribers.remove((event_type, handler))


def handlers_for(event_type: type[Event]) -> list[Handler]:
    """The handlers that receive ``event_type``, in subscription order."""
    with _lock:
        return [h for t, h in _subscribers if issubclass(event_type, t)]


def clear_subscribers() -> None:
    """Forget every subscription (prefer :func:`subscriptions` in tests)."""
    with _lock:
        _subscribers.clear()


@contextmanager
def subscriptions(*, keep_existing: bool = False) -> Iterator[None]:
    """Within the block, start from no subscribers (or the current ones); restore after."""
    with _lock:
        saved = list(_subscribers)
        if not keep_existing:
            _subscribers.clear()
    try:
        yield
    finally:
        with _lock:
            _subscribers[:] = saved


@dataclass
class _UnitState:
    published: list[Event] = field(default_factory=list)
    chain: list[str] = field(default_factory=list)
    failed: bool = False


def _state(session: Session) -> _UnitState:
    state = session.info.get(STATE_KEY)
    if not isinstance(state, _UnitState):
        state = session.info[STATE_KEY] = _UnitState()
    return state


def published(session: Session) -> list[Event]:
    """Events published so far in the session's current transaction, in order."""
    state = session.info.get(STATE_KEY)
    return list(state.published) if isinstance(state, _UnitState) else []


def publish(session: Session, event: Event) -> None:
    """Run every subscriber of ``event`` now, inside the caller's transaction."""
    _install()
    if not session.in_transaction():
        session.begin()
    state = _state(session)
    if len(state.chain) >= MAX_DEPTH:
        path = " -> ".join([*state.chain, event.name])
        raise EventLoopDetected(f"events nested deeper than {MAX_DEPTH}: {path}")
    state.published.append(event)
    state.chain.append(event.name)
    try:
        for handler in handlers_for(type(event)):
            handler(session, event)
    except BaseException:
        state.failed = True
        raise
    finally:
        state.chain.pop()


def _refuse_failed_commit(session: Session) -> None:
    state = session.info.get(STATE_KEY)
    if isinstance(state, _UnitState) and state.failed:
        raise UnitOfWorkAborted("an event subscriber failed; this unit of work cannot commit")


def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(STATE_KEY, None)


_installed = False


def _install() -> None:
    global _installed
    if _installed:
        return
    with _lock:
        if not _installed:
            sa_event.listen(Session, "before_commit", _refuse_failed_commit)
            sa_event.listen(Session, "after_transaction_end", _forget)
            _installed = True
