"""Errors of online authorisation: refusals named as RFC 6749 names them."""

from __future__ import annotations

from sscard.errors import NotFound, SSCardError


class OAuthError(SSCardError):
    """A refusal named as RFC 6749 names it; ``redirectable`` ones go back to the client."""

    status_code = 400

    def __init__(
        self,
        error: str,
        message: str,
        *,
        status_code: int | None = None,
        redirectable: bool = False,
    ) -> None:
        if status_code is None and error in ("invalid_client", "invalid_token"):
            status_code = 401
        super().__init__(message, status_code=status_code, code=error)
        self.redirectable = redirectable


class ClientNotFound(NotFound):
    code = "client_not_found"

    def __init__(self) -> None:
        super().__init__("应用不存在")
