"""Who is acting, for which institution, with what purpose, in which request.

Set once per request (HTTP) or command (CLI) and read wherever the platform needs it:
authorisation scopes, the audit log, log lines. Components receive the :class:`Actor`
explicitly in their service signatures; the audit mechanism reads the ambient
:class:`AccessContext` so that no route records access by hand.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum


class ActorKind(StrEnum):
    operator = "operator"
    app = "app"
    terminal = "terminal"
    resident = "resident"
    system = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    """The authenticated party behind a request or command."""

    kind: ActorKind
    id: str
    name: str
    institution_id: int | None = None
    institution_code: str | None = None
    institution_type: str | None = None
    region_code: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    permissions: frozenset[str] = field(default_factory=frozenset)

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def label(self) -> str:
        return f"{self.kind.value}:{self.id}"


SYSTEM = Actor(kind=ActorKind.system, id="system", name="系统", permissions=frozenset({"*"}))


@dataclass(frozen=True, slots=True)
class AccessContext:
    actor: Actor = SYSTEM
    request_id: str | None = None
    purpose: str | None = None
    client_ip: str | None = None
    channel: str | None = None


class _Box:
    """A mutable holder, so that what a dependency learns (the actor) is seen by the
    endpoint and the audit writer even when each runs in its own thread-pool call."""

    __slots__ = ("value",)

    def __init__(self, value: AccessContext) -> None:
        self.value = value


_DEFAULT = _Box(AccessContext())
_current: contextvars.ContextVar[_Box] = contextvars.ContextVar(
    "sscard_access_context", default=_DEFAULT
)


def current() -> AccessContext:
    return _current.get().value


@contextmanager
def acting(
    actor: Actor | None = None,
    *,
    request_id: str | None = None,
    purpose: str | None = None,
    client_ip: str | None = None,
    channel: str | None = None,
) -> Iterator[AccessContext]:
    """Run a block as ``actor`` (fields left out are inherited from the outer context)."""
    outer = current()
    ctx = replace(
        outer,
        actor=actor or outer.actor,
        request_id=request_id or outer.request_id,
        purpose=purpose or outer.purpose,
        client_ip=client_ip or outer.client_ip,
        channel=channel or outer.channel,
    )
    token = _current.set(_Box(ctx))
    try:
        yield ctx
    finally:
        _current.reset(token)


def begin(ctx: AccessContext) -> contextvars.Token[_Box]:
    """Start a fresh context (one per HTTP request); undo with :func:`end`."""
    return _current.set(_Box(ctx))


def end(token: contextvars.Token[_Box]) -> None:
    _current.reset(token)


def update(**changes: object) -> AccessContext:
    """Change the current request's context in place (e.g. once the actor is known)."""
    box = _current.get()
    if box is _DEFAULT:
        raise RuntimeError("no request or command context to update")
    box.value = replace(box.value, **changes)  # type: ignore[arg-type]
    return box.value
