"""The one base error of the platform.

Every component subclasses :class:`SSCardError` in its own ``errors.py``. The HTTP layer
turns any of them into ``{"error": code, "detail": message, "fields": [...]}``; the CLI
prints the message on one line and exits non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One field that is wrong, and why, in words a counter clerk understands."""

    field: str
    reason: str


class SSCardError(Exception):
    status_code: int = 400
    code: str = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        fields: list[FieldProblem] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        if code is not None:
            self.code = code
        self.fields = fields or []


class ValidationFailed(SSCardError):
    status_code = 422
    code = "validation_failed"

    def __init__(self, problems: list[FieldProblem], message: str | None = None) -> None:
        text = message or "；".join(f"{p.field}: {p.reason}" for p in problems)
        super().__init__(text, fields=problems)


class NotFound(SSCardError):
    status_code = 404
    code = "not_found"


class Conflict(SSCardError):
    status_code = 409
    code = "conflict"


class NotAuthenticated(SSCardError):
    status_code = 401
    code = "not_authenticated"


class PermissionDenied(SSCardError):
    status_code = 403
    code = "permission_denied"


class ConfigurationError(SSCardError):
    """The platform is configured in a way it refuses to run with."""

    status_code = 500
    code = "configuration_error"
