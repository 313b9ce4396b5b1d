"""Card-making failures (制卡失败): the list by status (待处理, 已处理, 已重新报送, 全部) and three
separate actions, each behind a confirmation page with a note: resubmit (重新报送), mark handled
(标记已处理) and, for a handled one, reopen (重新打开)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from sscard.errors import NotFound, SSCardError
from sscard.httpkit.deps import DbSession
from sscard.httpkit.params import row_id
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.issuance.batches import schemas as batch_schemas
from sscard.issuance.batches import service as batch_service
from sscard.kit.context import Actor
from sscard.kit.masking import mask_text
from sscard.registry.units import service as registry_units
from sscard.web import pages
from sscard.web.issuance.common import (
    FAILURE_STATUSES,
    STAGES,
    BatchClerk,
    Reader,
    page,
    redirect,
    refusing,
)

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/cards", include_in_schema=False)

STATUS_FILTERS = {"open": "待处理", "closed": "已处理", "resubmitted": "已重新报送", "all": "全部"}


class FailureAction(NamedTuple):
    title: str
    consequence: str
    allowed_from: tuple[str, ...]
    run: Callable[..., object]


ACTIONS = {
    "resubmit": FailureAction(
        "重新报送",
        "卡片回到“已申请”状态（卡号不变），随下一批次重新制卡。",
        ("open", "closed"),
        batch_service.resubmit_failure,
    ),
    "resolve": FailureAction(
        "标记已处理",
        "记录处理说明，这张卡不再重新制卡；以后如有需要，可以重新打开。",
        ("open",),
        batch_service.resolve_failure,
    ),
    "reopen": FailureAction(
        "重新打开",
        "制卡失败回到“待处理”，之后可以重新报送或再次标记已处理。",
        ("closed",),
        batch_service.reopen_failure,
    ),
}


def failure_names() -> dict[str, Any]:
    """What the failure table needs to name statuses, stages and actions."""
    return {
        "stages": STAGES,
        "failure_statuses": FAILURE_STATUSES,
        "status_filters": STATUS_FILTERS,
        "failure_actions": {k: a.title for k, a in ACTIONS.items()},
        "actions_from": {k: a.allowed_from for k, a in ACTIONS.items()},
    }


def _back(values: dict[str, str]) -> dict[str, str]:
    """The list a clerk came from (a batch, or the failures of an employer and a status)."""
    batch_no = values.get("batch_no", "").strip()
    employer = values.get("employer_id", "").strip()
    status = values.get("status", "").strip()
    back = {
        "batch_no": batch_no if re.fullmatch(r"[0-9A-Za-z_-]{1,32}", batch_no) else "",
        "employer_id": employer if employer.isdigit() else "",
        "status": status if status in STATUS_FILTERS else "",
    }
    return {k: v for k, v in back.items() if v}


def _back_url(back: dict[str, str]) -> str:
    if "batch_no" in back:
        return f"/cards/batches/{back['batch_no']}"
    query = urlencode({k: v for k, v in back.items() if k in ("employer_id", "status")})
    return "/cards/failures" + (f"?{query}" if query else "")


@router.get("/failures", response_class=HTMLResponse)
def failure_list(
    request: Request,
    actor: Reader,
    session: DbSession,
    employer_id: str = "",
    status: str = "open",
) -> HTMLResponse:
    """Card-making failures by status (open by default), of one employer's staff if chosen."""
    wanted = status if status in STATUS_FILTERS else "open"
    employer = None
    with refusing(request):
        if (chosen := row_id(employer_id.strip())) is not None:
            employer = registry_units.get_employer(session, employer_id=chosen)
        values = {
            "section": "stats",
            "employer": employer,
            "status": wanted,
            "back": _back({"employer_id": employer_id, "status": wanted}),
            "failures": batch_service.list_failures(
                session,
                employer_id=employer.id if employer else None,
                status=None if wanted == "all" else wanted,
            ),
            **failure_names(),
        }
    return page(request, "failures", values, actor=actor)


def _confirm_page(
    request: Request,
    actor: Actor,
    session: Session,
    failure_id: int,
    how: str,
    back: dict[str, str],
    extra: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    with refusing(request):
        failure = batch_service.failure_detail(session, failure_id=failure_id)
    action = ACTIONS[how]
    values = {
        "section": "stats",
        "failure": failure,
        "how": how,
        "action": action,
        "available": failure.status in action.allowed_from,
        "back": back,
        "back_url": _back_url(back),
        "values": {},
        "errors": {},
        **failure_names(),
        **(extra or {}),
    }
    return page(request, "failure_confirm", values, actor=actor, status_code=status_code)


def _target(request: Request, failure_id: str, how: str) -> int:
    with refusing(request):
        wanted = row_id(failure_id)
        if how not in ACTIONS or wanted is None:
            raise NotFound("没有这项业务")
    return wanted


@router.get("/failures/{failure_id}/{how}", response_class=HTMLResponse)
def failure_confirm(
    request: Request,
    failure_id: str,
    how: str,
    actor: BatchClerk,
    session: DbSession,
    batch_no: str = "",
    employer_id: str = "",
    status: str = "",
) -> HTMLResponse:
    """The confirmation page of one action on a failure: what happens, a note, confirm."""
    wanted = _target(request, failure_id, how)
    back = _back({"batch_no": batch_no, "employer_id": employer_id, "status": status})
    return _confirm_page(request, actor, session, wanted, how, back)


@router.post("/failures/{failure_id}/{how}", response_class=HTMLResponse)
def failure_handled(
    request: Request,
    failure_id: str,
    how: str,
    actor: BatchClerk,
    session: DbSession,
    form: pages.FormFields,
) -> Response:
    """Do the confirmed action; a form that was not confirmed shows the confirmation first."""
    wanted = _target(request, failure_id, how)
    back = _back(dict(form))
    note = form.get("note", "")

    def again(exc: SSCardError) -> HTMLResponse:
        reason = exc.fields[0].reason if exc.fields else mask_text(exc.message)
        extra = {"values": {"note": note}, "errors": {"note": [reason]}}
        return _confirm_page(
            request, actor, session, wanted, how, back, extra, status_code=exc.status_code
        )

    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        if form.get("confirmed") != "yes":
            return _confirm_page(
                request, actor, session, wanted, how, back, {"values": {"note": note}}
            )
        checked = pages.parsed(
            batch_schemas.FailureNoteIn,
            {"note": note},
            {"note": "请填写处理说明（至少 2 个字）"},
        ).note
        ACTIONS[how].run(session, failure_id=wanted, note=checked, actor=actor)
    return redirect(_back_url(back), f"failure-{how}")
