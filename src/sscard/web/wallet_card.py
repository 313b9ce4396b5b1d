"""我的社保卡 in the wallet: the card's status, how far its making has come and whether it
is enabled with its financial side; 临时挂失 (with a confirmation), 解除临时挂失 (with the
e-card PIN again), 正式挂失 (confirmation and e-card PIN) and, after a formal loss, an instant
replacement at a chosen bank branch (confirmation), using the resident's e-card session.
Forms carry the CSRF token; a refusal re-renders the page with the reason beside its field."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sscard.ecard import mybusiness, mycard
from sscard.errors import FieldProblem, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.masking import mask_text
from sscard.web import pages
from sscard.web.registry.common import PageRefused
from sscard.web.wallet import CurrentResident, Resident, wallet_page

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/wallet/card", include_in_schema=False)
PAGE = "/wallet/card"
DONE = {
    "lost": "已临时挂失。社会保障卡和电子社保卡暂停使用；找到卡后可在这里解除挂失。",
    "unlocked": "已解除临时挂失，社会保障卡和电子社保卡恢复使用。",
    "formal": "已正式挂失。社会保障卡和电子社保卡停止使用，线上不能解除；"
    "请到社保服务窗口或合作银行网点办理补换卡，也可以在这里申请到银行网点即时制卡。",
    "instant": "即时制卡申请已提交，原卡已注销。请携带居民身份证到所选银行网点现场制卡领卡，"
    "领卡启用后重新签发电子社保卡。",
}


def _card_page(
    request: Request,
    session: Session,
    resident: Resident,
    values: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    person_id = resident.actor.id
    card = mycard.my_card(session, person_id=person_id)
    shown = {
        "card": card,
        "enabling": mybusiness.my_enabling(session, person_id=person_id),
        "branches": mybusiness.instant_branches(session) if card and card.can_apply_instant else [],
        "bank_names": {b.code: b.name for b in mybusiness.instant_branches(session)},
        "errors": {},
        **values,
    }
    return wallet_page(request, "card", shown, status_code=status_code)


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
    request: Request,
    session: Session,
    resident: Resident,
    exc: SSCardError,
    kept: dict[str, str] | None = None,
) -> PageRefused:
    values = {
        "error": mask_text(exc.message),
        "errors": {p.field: p.reason for p in exc.fields},
        "kept": kept or {},
    }
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


@router.post("/formal-loss")
def report_formal_loss(
    request: Request, resident: CurrentResident, session: DbSession, form: pages.FormFields
) -> Response:
    """正式挂失 of my card: a confirmation and the e-card PIN typed again."""
    try:
        pages.check_form_csrf(request, form.get("csrf_token"))
        mybusiness.report_formal_loss(
            session,
            actor=resident.actor,
            pin=form.get("ecard_pin", ""),
            confirmed=form.get("confirm") == "yes",
        )
    except SSCardError as exc:
        raise _refused(request, session, resident, exc, {"form": "formal"}) from exc
    return _done("formal")


@router.post("/instant")
def apply_instant(
    request: Request, resident: CurrentResident, session: DbSession, form: pages.FormFields
) -> Response:
    """Apply for an instant replacement card at the chosen bank branch (after a formal loss)."""
    bank_code = form.get("bank_code", "").strip()[:32]
    try:
        pages.check_form_csrf(request, form.get("csrf_token"))
        mybusiness.apply_instant(
            session,
            actor=resident.actor,
            bank_code=bank_code,
            confirmed=form.get("confirm") == "yes",
        )
    except SSCardError as exc:
        raise _refused(request, session, resident, exc, {"bank_code": bank_code}) from exc
    return _done("instant")
