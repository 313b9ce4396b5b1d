"""手机号变更 in the wallet: the holder types the new number, a one-time code goes to the
OLD number (``sscard.ecard.myphone``), and typing it changes the number. The new number
typed is carried to the second step in the form (it is the holder's own page); the code is
never sent back. Without the old phone the page says to visit a counter."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sscard.ecard import myphone
from sscard.errors import SSCardError
from sscard.httpkit.deps import DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.masking import mask_text
from sscard.web import pages
from sscard.web.registry.common import PageRefused
from sscard.web.wallet import CurrentResident, Resident, beijing, wallet_page

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/wallet/phone", include_in_schema=False)
PAGE = "/wallet/phone"


def _phone_page(
    request: Request,
    session: Session,
    resident: Resident,
    values: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    shown = {
        "old_phone": myphone.old_phone_masked(session, person_id=resident.actor.id),
        "at_counter": myphone.AT_COUNTER,
        "code_minutes": myphone.CODE_MINUTES,
        "errors": {},
        "step": "number",
        "new_phone": "",
        **values,
    }
    return wallet_page(request, "phone", shown, status_code=status_code)


def _refused(
    request: Request, session: Session, resident: Resident, exc: SSCardError, **kept: str
) -> PageRefused:
    values = {
        "error": mask_text(exc.message),
        "errors": {p.field: p.reason for p in exc.fields},
        **kept,
    }
    return PageRefused(_phone_page(request, session, resident, values, status_code=exc.status_code))


@router.get("", response_class=HTMLResponse)
def phone_page(
    request: Request, resident: CurrentResident, session: DbSession, done: str = ""
) -> HTMLResponse:
    """My number on record (masked) and the form for a new one."""
    return _phone_page(request, session, resident, {"done": done == "changed"})


@router.post("/code", response_class=HTMLResponse)
def send_code(
    request: Request, resident: CurrentResident, session: DbSession, form: pages.FormFields
) -> HTMLResponse:
    """Send the one-time code to my old number; the page asks for it next."""
    new_phone = form.get("new_phone", "").strip()[:20]
    try:
        pages.check_form_csrf(request, form.get("csrf_token"))
        sent = myphone.send_code(session, actor=resident.actor, new_phone=new_phone)
    except SSCardError as exc:
        raise _refused(request, session, resident, exc, new_phone=new_phone) from exc
    values = {
        "step": "code",
        "new_phone": new_phone,
        "sent_to": sent.old_phone_masked,
        "expires": beijing(sent.expires_at, "%H:%M"),
    }
    return _phone_page(request, session, resident, values)


@router.post("")
def confirm(
    request: Request, resident: CurrentResident, session: DbSession, form: pages.FormFields
) -> Response:
    """Change my number with the code from the old phone."""
    new_phone = form.get("new_phone", "").strip()[:20]
    try:
        pages.check_form_csrf(request, form.get("csrf_token"))
        myphone.confirm_change(
            session, actor=resident.actor, new_phone=new_phone, code=form.get("code", "")[:12]
        )
    except SSCardError as exc:
        step = "code" if exc.fields and exc.fields[0].field == "code" else "number"
        raise _refused(request, session, resident, exc, new_phone=new_phone, step=step) from exc
    response = RedirectResponse(f"{PAGE}?done=changed", status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response
