"""Clearing and settlement routes (清分结算): run a day, read days and settlement reports,
download a day's settlement file. Platform operators only."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from sscard.httpkit.deps import DbSession, require
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor
from sscard.payments.clearing import service
from sscard.payments.clearing.schemas import ClearingDayOut, ClearingDaySummary

router = APIRouter(route_class=UnitOfWorkRoute, tags=["payments"])
Read = Annotated[Actor, Depends(require("payments.settlement.read"))]
Manage = Annotated[Actor, Depends(require("payments.recon.manage"))]


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: date


@router.post("/clearing/run", response_model=ClearingDayOut)
def run_day(data: RunIn, actor: Manage, session: DbSession) -> ClearingDayOut:
    """Clear and settle a day after its cut-off; running it again changes nothing."""
    return service.run_day(session, day=data.day, actor=actor)


@router.get("/settlement/days", response_model=list[ClearingDaySummary])
def list_days(
    actor: Read,
    session: DbSession,
    start: Annotated[date | None, Query(description="first day (default: 30 days ago)")] = None,
    end: Annotated[date | None, Query(description="last day (default: the current one)")] = None,
) -> list[ClearingDaySummary]:
    """Cleared days, newest first."""
    last = end or service.current_day()
    return service.list_days(
        session, start=start or last - timedelta(days=30), end=last, actor=actor
    )


@router.get("/settlement/days/{day}", response_model=ClearingDayOut)
def get_day(day: date, actor: Read, session: DbSession) -> ClearingDayOut:
    """A cleared day: each merchant's settlement and each bank's position."""
    return service.get_day(session, day=day, actor=actor)


@router.get(
    "/settlement/days/{day}/file",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def settlement_file(day: date, actor: Read, session: DbSession) -> Response:
    """The day's settlement file, as sent to the reserve bank."""
    name, data = service.settlement_file(session, day=day, actor=actor)
    return Response(
        data,
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
