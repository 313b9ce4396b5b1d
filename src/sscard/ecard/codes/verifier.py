"""The check of a scanned online code, as pure logic over two look-ups (keys and states).

The service plugs in the key store and the database; the benchmark plugs in dictionaries.
Refusals name one of the stable reasons terminals see: ``code_invalid``, ``code_expired``,
``card_suspended``, ``card_revoked`` (``code_already_used`` is decided by the single-use
claim that follows a successful check).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sscard.crypto import primitives
from sscard.ecard.codes import qr
from sscard.ecard.schemas import CopyState

CLOCK_SKEW = 5
"""Seconds a terminal's clock may be ahead of ours."""


class Refused(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


@dataclass
class Verifier:
    key_for: Callable[[int, int], bytes]
    state_for: Callable[[int], CopyState | None]
    ttl: int = 60
    clock: Callable[[], float] = field(default=time.time)

    def check(self, text: str, business: int | None = None) -> tuple[qr.OnlineCode, CopyState]:
        """The code and its copy's state, or :class:`Refused` with the reason."""
        try:
            code, body, tag = qr.parse_online(text)
        except qr.CodeInvalid as exc:
            raise Refused("code_invalid", str(exc)) from exc
        state = self.state_for(code.copy_id)
        if state is None or code.key_version != state.key_version:
            raise Refused("code_invalid", "unknown copy or key version")
        key = self.key_for(code.copy_id, code.key_version)
        if not qr.mac_matches(primitives.sm3_hmac(key, body), tag):
            raise Refused("code_invalid", "mac")
        age = int(self.clock()) - code.issued_at
        if age < -CLOCK_SKEW:
            raise Refused("code_invalid", "from the future")
        if age > self.ttl:
            raise Refused("code_expired")
        if business is not None and business != int(code.business):
            raise Refused("code_invalid", "business type")
        if state.status == "suspended":
            raise Refused("card_suspended")
        if state.status == "revoked":
            raise Refused("card_revoked")
        return code, state
