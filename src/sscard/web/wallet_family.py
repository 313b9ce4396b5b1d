"""亲情服务 in the wallet: add a family member (a minor at once, an elder once they agree),
agree to or refuse a request as the elder, end a binding or withdraw consent, and see why a
member's code cannot be shown. Every form carries the CSRF token; a refusal re-renders the
page with the reason and what was typed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from sscard.ecard.family import errors as family_errors
from sscard.ecard.family import service as family_service
from sscard.ecard.family.schemas import FamilyBindIn, FamilyMemberOut
from sscard.errors import FieldProblem, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.masking import mask_text
from sscard.web import pages
from sscard.web.registry.common import PageRefused
from sscard.web.wallet import CurrentResident, Resident, wallet_page

router = APIRouter(
    route_class=UnitOfWorkRoute, prefix="/wallet/family-service", include_in_schema=False
)
PAGE = "/wallet/family-service"
DONE = {
    "added": "已添加。未成年人可立即代为出示；老人需在自己的电子社保卡中同意后才能代为出示。",
    "ended": "已解除绑定。",
    "consented": "已同意。对方现在可以代您出示电子社保卡。",
    "refused": "已拒绝（或撤回同意）。对方不能再代您出示电子社保卡。",
}
ECARD_REASONS = {
    None: "对方还没有电子社保卡，请先为其签发后再代为出示。",
    "suspended": "对方的社会保障卡已挂失，电子社保卡暂停使用。",
    "revoked": "对方的电子社保卡已注销。",
}


def why_no_code(member: FamilyMemberOut) -> str:
    """Why the guardian cannot show this member's code ('' when they can)."""
    if member.status == "pending":
        return "等待对方同意：请对方在自己的电子社保卡“亲情服务”中点“同意”，或到社保服务窗口确认。"
    return "" if member.ecard_status == "active" else ECARD_REASONS.get(member.ecard_status, "")


def _values(session: Session, resident: Resident) -> dict[str, Any]:
    person_id = resident.actor.id
    found = family_service.members(session, guardian_person_id=person_id)
    members = [family_service.member_out(session, b) for b in found]
    asked = family_service.requests_for(session, member_person_id=person_id)
    return {
        "members": [(m, why_no_code(m)) for m in members],
        "requests": [family_service.request_out(session, b) for b in asked],
        "errors": {},
        "typed": {},
    }


@router.get("", response_class=HTMLResponse)
def family_page(
    request: Request, resident: CurrentResident, session: DbSession, done: str = ""
) -> HTMLResponse:
    """My family members, the requests to me, and the form to add one."""
    values = {**_values(session, resident), "done": DONE.get(done, "")}
    return wallet_page(request, "family", values)


def _refused(
    request: Request, session: Session, resident: Resident, exc: SSCardError, typed: dict[str, str]
) -> PageRefused:
    values = {
        **_values(session, resident),
        "error": mask_text(exc.message),
        "errors": {p.field: p.reason for p in exc.fields},
        "typed": typed,
    }
    return PageRefused(wallet_page(request, "family", values, status_code=exc.status_code))


def _bind_input(form: dict[str, str]) -> FamilyBindIn:
    number, name = form.get("member_id_number", ""), form.get("member_name", "")
    problems = []
    if not number.strip():
        problems.append(FieldProblem("member_id_number", "请输入家庭成员的证件号码"))
    if not name.strip():
        problems.append(FieldProblem("member_name", "请输入家庭成员的姓名"))
    if problems:
        raise ValidationFailed(problems, "请输入家庭成员的证件号码和姓名")
    try:
        return FamilyBindIn(member_id_number=number, member_name=name)
    except ValidationError as exc:
        reason = "证件号码或姓名过长"
        raise ValidationFailed([FieldProblem("member_id_number", reason)], reason) from exc


def _binding_number(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 18:
        raise family_errors.FamilyBindingNotFound()
    return int(raw)


def _done(what: str) -> Response:
    response = RedirectResponse(f"{PAGE}?done={what}", status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/add")
def add_member(
    request: Request, resident: CurrentResident, session: DbSession, form: pages.FormFields
) -> Response:
    """Bind a minor (active at once) or an elder (pending until they agree)."""
    typed = {k: form.get(k, "").strip()[:64] for k in ("member_id_number", "member_name")}
    try:
        pages.check_form_csrf(request, form.get("csrf_token"))
        family_service.bind(session, guardian=resident.session, data=_bind_input(dict(form)))
    except SSCardError as exc:
        raise _refused(request, session, resident, exc, typed) from exc
    return _done("added")


@router.post("/{binding_id}/{action}")
def act(
    binding_id: str,
    action: str,
    request: Request,
    resident: CurrentResident,
    session: DbSession,
    form: pages.FormFields,
) -> Response:
    """End a binding (as the guardian), agree to or refuse one (as the member)."""
    person_id = resident.actor.id
    try:
        pages.check_form_csrf(request, form.get("csrf_token"))
        number = _binding_number(binding_id)
        if action == "end":
            family_service.unbind(session, guardian_person_id=person_id, binding_id=number)
            return _done("ended")
        if action == "consent":
            family_service.consent(session, member_person_id=person_id, binding_id=number)
            return _done("consented")
        if action == "refuse":
            family_service.refuse(session, member_person_id=person_id, binding_id=number)
            return _done("refused")
        raise SSCardError("没有这项操作", status_code=404, code="not_found")
    except SSCardError as exc:
        raise _refused(request, session, resident, exc, {}) from exc
