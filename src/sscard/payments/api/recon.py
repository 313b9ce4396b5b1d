"""Reconciliation routes (商户对账): import daily files, list, resolve and approve
differences, day reports. Platform operators only."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query

from sscard.httpkit.deps import DbSession, require
from sscard.httpkit.params import Id, Page, PageSize
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor
from sscard.payments.recon import service
from sscard.payments.recon.matching import DiffKind
from sscard.payments.recon.schemas import (
    DayReport,
    DifferenceOut,
    DifferencePage,
    DiffState,
    ImportOut,
    ResolveIn,
)

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/recon", tags=["payments"])
Read = Annotated[Actor, Depends(require("payments.recon.read"))]
Manage = Annotated[Actor, Depends(require("payments.recon.manage"))]
Approve = Annotated[Actor, Depends(require("payments.recon.approve"))]


@router.post("/imports", response_model=ImportOut)
def import_file(
    actor: Manage,
    session: DbSession,
    data: Annotated[bytes, Body(media_type="text/plain", description="the daily file")],
) -> ImportOut:
    """Import a bank's or the acquirer's daily file (the body) and match it."""
    return service.import_file(session, data=data, actor=actor)


@router.get("/days/{day}", response_model=DayReport)
def day_report(day: date, actor: Read, session: DbSession) -> DayReport:
    """A day: imported files, each merchant's figures and differences, differences by kind."""
    return service.day_report(session, day=day, actor=actor)


@router.get("/differences", response_model=DifferencePage)
def list_differences(
    actor: Read,
    session: DbSession,
    day: date | None = None,
    kind: DiffKind | None = None,
    state: DiffState | None = None,
    source: Annotated[str | None, Query(pattern="^(bank|acquirer)$")] = None,
    merchant: Annotated[str | None, Query(max_length=32)] = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> DifferencePage:
    """Differences with filters; amounts in fen."""
    return service.list_differences(
        session,
        actor=actor,
        day=day,
        kind=kind.value if kind else None,
        state=state.value if state else None,
        source=source,
        merchant=merchant.upper() if merchant else None,
        page=page,
        page_size=page_size,
    )


@router.post("/differences/{diff_id}/resolve", response_model=DifferenceOut)
def resolve(diff_id: Id, data: ResolveIn, actor: Manage, session: DbSession) -> DifferenceOut:
    """Resolve with an adjusting transfer or without one; above the limit it awaits approval."""
    return service.resolve(session, diff_id=diff_id, data=data, actor=actor)


@router.post("/differences/{diff_id}/approve", response_model=DifferenceOut)
def approve(diff_id: Id, actor: Approve, session: DbSession) -> DifferenceOut:
    """A second operator approves an adjustment above the limit; it is posted then."""
    return service.approve(session, diff_id=diff_id, actor=actor)
