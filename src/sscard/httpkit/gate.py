"""The port through which a request's credentials become an actor.

The kit knows the shape of authentication (bearer tokens, page-session cookies,
permissions) but not who issues the tokens: operators' tokens belong to ``iam``, terminal
tokens to ``scenarios``, resident sessions to ``ecard``. The app assembly installs a
:class:`Gate` that knows them (``sscard.app.gate``), so this kit imports no component.
"""

from __future__ import annotations

from typing import Protocol

from fastapi import Request
from sqlalchemy.orm import Session

from sscard.kit.context import Actor


class Gate(Protocol):
    """What the HTTP kit asks of the platform to let a request in."""

    def bearer(self, request: Request, session: Session, raw: str) -> Actor:
        """The actor behind a bearer token (may set ``request.state`` for the route)."""

    def page_session(self, session: Session, raw: str) -> Actor:
        """The operator behind a page-session cookie."""

    def authorize(self, session: Session, actor: Actor, permission: str) -> None:
        """Raise ``PermissionDenied`` (and keep the refusal on record) unless allowed."""


_installed: Gate | None = None


def install(gate: Gate) -> None:
    """Use ``gate`` for every request from now on (the app does this at start-up)."""
    global _installed
    _installed = gate


def current() -> Gate:
    """The installed gate; a clear error when the app was not assembled."""
    if _installed is None:
        raise RuntimeError("no gate installed: build the app with sscard.app.factory.create_app")
    return _installed
