"""我的社保卡 in the wallet: the card's status and how far its making has come, 临时挂失
(with a confirmation) and 解除临时挂失 (with the e-card PIN again), using the resident's
e-card session. Forms carry the CSRF token; a refusal re-renders the page with the reason."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sscard.ecard import mycard
from sscard.errors import FieldProblem, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.kit.masking import mask_text
from sscard.web import pages
from sscard.web.registry.common import PageRefused
from sscard.web.wallet import CurrentResident, Resident, _page

router = APIRouter(prefix="/wallet/card", include_in_schema=False)
PAGE = "/wallet/card"
DONE = {
    "lost": "已临时挂失。社会保障卡和电子社保卡暂停使用；找到卡后可在这里解除挂失。",
    "unlocked": "已解除临时挂失，社会保障卡和电子社保卡恢复使用。",
}


def _card_page(
    request: Request,
    session: Session,
    resident: Resident,
    values: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    card = mycard.my_card(session, person_id=resident.actor.id)
    return _page(request, "card", {"card": card, "errors": {}, **values}, status_code=status_code)


@router.get("", response_class=HTMLResponse)
def card_page(
    request: Request, resident: CurrentResident, session: DbSession, done: str = ""
) -> HTMLResponse:
    """My card's status, its making progress, and what I can do online."""
    return _card_page(request, session, resident, {"done": DONE.get(done, "")})


def _done(what: str) -> Response:
    response = RedirectResponse(f"{PAGE}?done={what}", status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(
    request: Request, session: Session, resident: Resident, exc: SSCardError
) -> PageRefused:
    values = {"error": mask_text(exc.message), "errors": {p.field: p.reason for p in exc.fields}}
    return PageRefused(_card_page(request, session, resident, values, status_code=exc.status_code))


@router.post("/loss")
def report_loss(
    request: Request, resident: CurrentResident, session: DbSession, form: pages.FormFields
) -> Response:
    """临时挂失 of my card, once I have ticked the confirmation."""
    try:
        pages.check_form_csrf(request, form.get("csrf_token"))
        if form.get("confirm") != "yes":
            reason = "请勾选“我确认临时挂失”"
            raise ValidationFailed([FieldProblem("confirm", reason)], reason)
        mycard.report_temporary_loss(session, actor=resident.actor)
    except SSCardError as exc:
        raise _refused(request, session, resident, exc) from exc
    return _done("lost")


@router.post("/unlock")
def unlock(
    request: Request, resident: CurrentResident, session: DbSession, form: pages.FormFields
) -> Response:
    """解除临时挂失 with the e-card PIN typed again."""
    try:
        pages.check_form_csrf(request, form.get("csrf_token"))
        mycard.unlock_temporary_loss(session, actor=resident.actor, pin=form.get("ecard_pin", ""))
    except SSCardError as exc:
        raise _refused(request, session, resident, exc) from exc
    return _done("unlocked")
