"""Batches with their progress, card-making failures (resolve, resubmit) and statistics."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from sscard.errors import NotFound, SSCardError
from sscard.httpkit.deps import DbSession
from sscard.httpkit.params import row_id
from sscard.issuance.batches import schemas as batch_schemas
from sscard.issuance.batches import service as batch_service
from sscard.issuance.cards import stats_service
from sscard.kit.context import Actor
from sscard.kit.masking import mask_text
from sscard.registry.units import service as registry_units
from sscard.web import pages
from sscard.web.issuance.common import (
    FAILURE_STATUSES,
    STAGES,
    BatchClerk,
    Reader,
    StatsReader,
    page,
    redirect,
    refusing,
)

router = APIRouter(prefix="/cards", include_in_schema=False)


@router.get("/batches", response_class=HTMLResponse)
def batch_list(request: Request, actor: Reader, session: DbSession) -> HTMLResponse:
    """The newest batches, each with its cards per status as a progress bar."""
    found = batch_service.list_batches(session, limit=50)
    return page(request, "batches", {"section": "batches", "batches": found}, actor=actor)


def _batch_page(
    request: Request,
    actor: Actor,
    session: Session,
    batch_no: str,
    extra: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    with refusing(request):
        values = {
            "section": "batches",
            "batch": batch_service.get_batch(session, batch_no=batch_no),
            "failures": batch_service.list_failures(session, batch_no=batch_no, status=None),
            "rejects": batch_service.rejects_of(session, batch_no=batch_no, limit=50),
            **_failure_names(),
            **(extra or {}),
        }
    return page(request, "batch", values, actor=actor, status_code=status_code)


def _failure_names() -> dict[str, Any]:
    return {"stages": STAGES, "failure_statuses": FAILURE_STATUSES}


@router.get("/batches/{batch_no}", response_class=HTMLResponse)
def batch_page(request: Request, batch_no: str, actor: Reader, session: DbSession) -> HTMLResponse:
    """One batch: progress, card-making failures (resolve, resubmit), rejected result rows."""
    return _batch_page(request, actor, session, batch_no)


def _failures_page(
    request: Request,
    actor: Actor,
    session: Session,
    employer_id: str,
    extra: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    employer = None
    with refusing(request):
        if (wanted := row_id(employer_id)) is not None:
            employer = registry_units.get_employer(session, employer_id=wanted)
        values = {
            "section": "stats",
            "employer": employer,
            "failures": batch_service.list_failures(
                session, employer_id=employer.id if employer else None, status="open"
            ),
            **_failure_names(),
            **(extra or {}),
        }
    return page(request, "failures", values, actor=actor, status_code=status_code)


@router.get("/failures", response_class=HTMLResponse)
def failure_list(
    request: Request, actor: Reader, session: DbSession, employer_id: str = ""
) -> HTMLResponse:
    """Open card-making failures (of one employer's staff, when chosen)."""
    return _failures_page(request, actor, session, employer_id.strip())


@router.post("/failures/{failure_id}/{how}", response_class=HTMLResponse)
def failure_handled(
    request: Request,
    failure_id: str,
    how: str,
    actor: BatchClerk,
    session: DbSession,
    form: pages.FormFields,
) -> Response:
    """Resolve a failure with a note, or resubmit its card for the next batch."""
    back_batch = form.get("batch_no", "").strip()
    back_batch = back_batch if re.fullmatch(r"[0-9A-Za-z_-]{1,32}", back_batch) else ""
    back_employer = form.get("employer_id", "").strip()
    back_employer = back_employer if back_employer.isdigit() else ""

    def again(exc: SSCardError) -> HTMLResponse:
        reason = exc.fields[0].reason if exc.fields else mask_text(exc.message)
        extra = {
            "errors": {f"note-{failure_id}": [reason]},
            "notes": {failure_id: form.get("note", "")},
        }
        if back_batch:
            return _batch_page(
                request, actor, session, back_batch, extra, status_code=exc.status_code
            )
        return _failures_page(
            request, actor, session, back_employer, extra, status_code=exc.status_code
        )

    with refusing(request):
        if how not in ("resolve", "resubmit") or row_id(failure_id) is None:
            raise NotFound("没有这项业务")
    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        note = pages.parsed(
            batch_schemas.FailureNoteIn,
            {"note": form.get("note", "")},
            {"note": "请填写处理说明（至少 2 个字）"},
        ).note
        handle = (
            batch_service.resolve_failure if how == "resolve" else batch_service.resubmit_failure
        )
        handle(session, failure_id=int(failure_id), note=note, actor=actor)
    if back_batch:
        url = f"/cards/batches/{back_batch}"
    else:
        url = "/cards/failures" + (
            f"?{urlencode({'employer_id': back_employer})}" if back_employer else ""
        )
    return redirect(url, f"failure-{how}")


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
