"""人社缴费 in the wallet: choose a year and a grade of the 城乡居民基本养老保险 contribution
and pay it from the card or on the bank's pay page (网银); and the page the bank sends the
browser back to (支付结果), which shows the result the platform knows: only the bank's
verified notice or a status query marks an order paid, never the return itself."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sscard import db
from sscard.ecard import mybusiness
from sscard.errors import FieldProblem, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.params import Id
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import SYSTEM
from sscard.kit.masking import mask_text
from sscard.payments.codes.money import fen_to_yuan
from sscard.payments.contributions import service as contributions_service
from sscard.payments.contributions.schemas import ContributionIn
from sscard.payments.online import service as online_service
from sscard.web import pages
from sscard.web.registry.common import PageRefused
from sscard.web.wallet import CurrentResident, Resident, resident_of, wallet_page

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)
PAGE = "/wallet/contributions"
STATUS_NAMES = {
    "unpaid": "待支付",
    "paid": "已支付，正在上报社保经办机构",
    "reported": "已缴费（社保经办机构已记录）",
    "refused": "社保经办机构未受理，请到窗口咨询",
}


def _contributions_page(
    request: Request,
    session: Session,
    resident: Resident,
    values: dict[str, Any],
    status: int = 200,
) -> HTMLResponse:
    shown = {
        "options": contributions_service.options(),
        "mine": contributions_service.list_mine(session, actor=resident.actor),
        "banks": mybusiness.instant_branches(session),
        "status_names": STATUS_NAMES,
        "yuan": fen_to_yuan,
        "errors": {},
        "kept": {},
        **values,
    }
    return wallet_page(request, "contributions", shown, status_code=status)


@router.get(PAGE, response_class=HTMLResponse)
def contributions_page(
    request: Request, resident: CurrentResident, session: DbSession
) -> HTMLResponse:
    """The contribution form and my contributions."""
    return _contributions_page(request, session, resident, {})


def _refused(
    request: Request, session: Session, resident: Resident, exc: SSCardError, kept: dict[str, str]
) -> PageRefused:
    values = {
        "error": mask_text(exc.message),
        "errors": {p.field: p.reason for p in exc.fields},
        "kept": kept,
    }
    return PageRefused(
        _contributions_page(request, session, resident, values, status=exc.status_code)
    )


def _input(form: dict[str, str]) -> ContributionIn:
    year, grade = form.get("year", ""), form.get("grade_fen", "")
    problems = []
    if not year.isdigit():
        problems.append(FieldProblem("year", "请选择缴费年度"))
    if not grade.isdigit():
        problems.append(FieldProblem("grade_fen", "请选择缴费档次"))
    channel = form.get("channel", "")
    if channel not in ("card", "online_bank"):
        problems.append(FieldProblem("channel", "请选择支付方式"))
    if channel == "online_bank" and not form.get("bank_code"):
        problems.append(FieldProblem("bank_code", "网银支付请选择银行"))
    if problems:
        raise ValidationFailed(problems)
    return ContributionIn(year=int(year), grade_fen=int(grade), channel=channel)


@router.post(PAGE)
def pay_contribution(
    request: Request, resident: CurrentResident, session: DbSession, form: pages.FormFields
) -> Response:
    """Start the year's contribution; online bank goes on to the bank's pay page, the card
    to the confirmation step."""
    kept = {k: form.get(k, "") for k in ("year", "grade_fen", "channel", "bank_code")}
    try:
        pages.check_form_csrf(request, form.get("csrf_token"))
        started = contributions_service.start(session, data=_input(form), actor=resident.actor)
        if started.channel == "online_bank":
            base = str(request.base_url).rstrip("/")
            pay = online_service.start_payment(
                session,
                order_no=started.order_no,
                bank_code=form["bank_code"],
                base_url=base,
                actor=SYSTEM,
            )
            return RedirectResponse(pay.pay_url, status_code=303)
    except SSCardError as exc:
        raise _refused(request, session, resident, exc, kept) from exc
    return RedirectResponse(f"{PAGE}/{started.id}", status_code=303)


@router.get(PAGE + "/{contribution_id}", response_class=HTMLResponse)
def contribution(
    contribution_id: Id, request: Request, resident: CurrentResident, session: DbSession
) -> HTMLResponse:
    """One contribution: confirm the card payment, or see how it stands."""
    found = contributions_service.get_mine(
        session, contribution_id=contribution_id, actor=resident.actor
    )
    values = {"c": found, "status_names": STATUS_NAMES, "yuan": fen_to_yuan}
    return wallet_page(request, "contribution", values)


@router.post(PAGE + "/{contribution_id}/pay")
async def pay_by_card(contribution_id: Id, request: Request, form: pages.FormFields) -> Response:
    """Pay the contribution from my card; the resident is checked in a transaction of its
    own, and the bank is asked outside any."""
    pages.check_form_csrf(request, form.get("csrf_token"))
    return await run_in_threadpool(_pay_by_card, contribution_id, request)


def _pay_by_card(contribution_id: int, request: Request) -> Response:
    with db.transaction() as session:
        resident = resident_of(request, session)
    try:
        contributions_service.pay_by_card(contribution_id=contribution_id, actor=resident.actor)
    except SSCardError as exc:
        values = {"message": mask_text(exc.message)}
        return wallet_page(request, "refused", values, status_code=exc.status_code)
    return RedirectResponse(f"{PAGE}/{contribution_id}", status_code=303)


@router.get("/wallet/online-result", response_class=HTMLResponse)
def online_return(
    request: Request, resident: CurrentResident, session: DbSession, order_no: str = ""
) -> HTMLResponse:
    """支付结果: what the platform knows of the order (the return alone pays nothing)."""
    found = online_service.payment_status(session, order_no=order_no[:20])
    values = {"payment": found, "order_no": order_no[:20], "yuan": fen_to_yuan}
    return wallet_page(request, "online_result", values, status_code=200 if found else 404)
