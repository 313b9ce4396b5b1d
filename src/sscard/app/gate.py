"""The platform's gate: which component issued a token, and who may do what.

Terminal tokens belong to ``scenarios`` (the route finds the scenario in
``request.state.scenario``), resident sessions to ``ecard`` (``request.state.resident``),
operators' API tokens and page sessions to ``iam``, which also decides permissions and
keeps refusals in the audit log.
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from sscard.ecard import service as ecard_service
from sscard.errors import PermissionDenied
from sscard.iam import service as iam_service
from sscard.kit.context import Actor
from sscard.scenarios import service as scenarios_service


class PlatformGate:
    """The :class:`sscard.httpkit.gate.Gate` of the assembled platform."""

    def bearer(self, request: Request, session: Session, raw: str) -> Actor:
        if scenarios_service.is_terminal_token(raw):
            actor, scenario = scenarios_service.resolve_terminal(session, raw=raw)
            request.state.scenario = scenario
            return actor
        if ecard_service.is_resident_token(raw):
            actor, resident = ecard_service.resolve_session(session, raw=raw)
            request.state.resident = resident
            return actor
        return iam_service.resolve_token(session, raw=raw, kind="api")

    def page_session(self, session: Session, raw: str) -> Actor:
        return iam_service.resolve_token(session, raw=raw, kind="web")

    def authorize(self, session: Session, actor: Actor, permission: str) -> None:
        try:
            iam_service.authorize(actor, permission)
        except PermissionDenied:
            iam_service.record_denied(session, permission=permission)
            raise
