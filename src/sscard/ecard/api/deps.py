"""What the e-card routes share: the resident behind a session token, the manager
permission, the rate limit and the no-store headers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from sscard.ecard.errors import ResidentSessionInvalid, TooManyRequests
from sscard.ecard.schemas import ResidentSessionOut
from sscard.httpkit.deps import CurrentActor, DbSession, require
from sscard.kit.context import Actor, ActorKind
from sscard.kit.guard import get_guard

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _resident(request: Request, actor: CurrentActor) -> ResidentSessionOut:
    resident: ResidentSessionOut | None = getattr(request.state, "resident", None)
    if actor.kind is not ActorKind.resident or resident is None:
        raise ResidentSessionInvalid()
    return resident


Resident = Annotated[ResidentSessionOut, Depends(_resident)]
"""The resident whose e-card session token (``ser_...``) the request carries."""
Manager = Annotated[Actor, Depends(require("ecard.manage"))]
Business = Annotated[int, Query(ge=1, le=4, description="1 查询, 2 支付, 3 其他, 4 异地就医")]
"""The business type a code is asked for."""


def throttle(request: Request, session: DbSession, what: str, limit: int) -> None:
    """At most ``limit`` requests a minute of one kind from one client address."""
    client = request.client.host if request.client else "unknown"
    decision = get_guard(session, namespace="ecard-rate").hit(
        f"{what}:{client}", limit=limit, window_seconds=60
    )
    if not decision.allowed:
        raise TooManyRequests(f"操作过于频繁，请 {decision.retry_after_seconds} 秒后再试")
