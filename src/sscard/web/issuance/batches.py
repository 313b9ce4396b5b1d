"""Batches with their progress and failures, and statistics (failure actions: ``failures``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from sscard.httpkit.deps import DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.issuance.batches import service as batch_service
from sscard.issuance.cards import stats_service
from sscard.kit.context import Actor
from sscard.web.issuance.common import (
    Reader,
    StatsReader,
    page,
    refusing,
)
from sscard.web.issuance.failures import failure_names

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/cards", include_in_schema=False)


@router.get("/batches", response_class=HTMLResponse)
def batch_list(request: Request, actor: Reader, session: DbSession) -> HTMLResponse:
    """The newest batches, each with its cards per status as a progress bar."""
    found = batch_service.list_batches(session, limit=50)
    return page(request, "batches", {"section": "batches", "batches": found}, actor=actor)


def batch_values(session: Session, batch_no: str) -> dict[str, Any]:
    """What the batch page shows: the batch, its failures, its rejected result rows."""
    return {
        "section": "batches",
        "batch": batch_service.get_batch(session, batch_no=batch_no),
        "failures": batch_service.list_failures(session, batch_no=batch_no, status=None),
        "rejects": batch_service.rejects_of(session, batch_no=batch_no, limit=50),
        "back": {"batch_no": batch_no},
        **failure_names(),
    }


def _batch_page(request: Request, actor: Actor, session: Session, batch_no: str) -> HTMLResponse:
    with refusing(request):
        values = batch_values(session, batch_no)
    return page(request, "batch", values, actor=actor)


@router.get("/batches/{batch_no}", response_class=HTMLResponse)
def batch_page(request: Request, batch_no: str, actor: Reader, session: DbSession) -> HTMLResponse:
    """One batch: progress, card-making failures, rejected result rows."""
    return _batch_page(request, actor, session, batch_no)


@router.get("/stats", response_class=HTMLResponse)
def statistics(request: Request, actor: StatsReader, session: DbSession) -> HTMLResponse:
    """Making progress, card-holding by employer and community, failures by employer."""
    values = {
        "section": "stats",
        "progress": stats_service.making_progress(session),
        "by_employer": stats_service.holding(session, by="employer")[:20],
        "by_community": stats_service.holding(session, by="community")[:20],
        "failures_by_employer": stats_service.failures_by(session, by="employer")[:20],
    }
    return page(request, "stats", values, actor=actor)
