"""A request's unit of work is committed in the thread that ran its endpoint.

FastAPI runs a blocking endpoint in a thread-pool call and then validates what it returned
in a *further* thread-pool call, before the dependencies' exit code (where
:func:`sscard.db.transaction` commits) runs. A transaction committed only at dependency exit
therefore keeps its row locks while it queues for a free thread. When every thread of the
pool is itself waiting on those locks (forty logins of one operator, each updating the
operator's row), nothing moves again.

So the request's sessions are gathered as they open (:func:`opened`, from the session
dependency), and each blocking endpoint of a router built with :class:`UnitOfWorkRoute`
commits them as it returns, in its own thread:
the locks are released before the request waits for anything else. The dependency's own
commit then finds nothing left to do; if the endpoint raises, nothing is committed and the
dependency rolls back as before.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

_open: contextvars.ContextVar[list[Session] | None] = contextvars.ContextVar(
    "sscard_request_units", default=None
)
_WRAPPED = "__sscard_commits_on_return__"


@contextmanager
def request_scope() -> Iterator[None]:
    """Gather the units of work one request opens (the platform middleware wraps each
    request in this; the list is shared by the threads that run its dependencies)."""
    token = _open.set([])
    try:
        yield
    finally:
        _open.reset(token)


def opened(session: Session) -> None:
    """Note a session the current request opened, to be committed as its endpoint returns."""
    units = _open.get()
    if units is not None:
        units.append(session)


def commit_on_return(call: Callable[..., Any]) -> Callable[..., Any]:
    """``call``, committing the request's open sessions after it returns, in its thread."""

    @functools.wraps(call)
    def endpoint(*args: Any, **kwargs: Any) -> Any:
        result = call(*args, **kwargs)
        for session in _open.get() or ():
            session.commit()
        return result

    setattr(endpoint, _WRAPPED, True)
    return endpoint


class UnitOfWorkRoute(APIRoute):
    """The route class of every router: a blocking endpoint commits its request's work as
    it returns (``APIRouter(route_class=UnitOfWorkRoute)``)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not _is_async(endpoint) and not getattr(endpoint, _WRAPPED, False):
            endpoint = commit_on_return(endpoint)
        super().__init__(path, endpoint, **kwargs)


def _is_async(call: Callable[..., Any]) -> bool:
    target = inspect.unwrap(call)
    if inspect.iscoroutinefunction(target):
        return True
    dunder_call = getattr(target, "__call__", None)  # noqa: B004 - a callable instance
    return inspect.iscoroutinefunction(dunder_call)
