"""Medical settlement pages (就医结算): the region's settlements filtered by status, one
settlement with its three-way split (统筹 / 个人账户 / 现金) and its items, a refund that
asks for a reason and a confirmation, and the chronic-disease qualifications (门诊慢特病)
with the approval form and a revoke action."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from sscard import db
from sscard.errors import FieldProblem, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor
from sscard.payments.codes.money import fen_to_yuan
from sscard.payments.medical import chronic_service, service, settle_service
from sscard.payments.medical.schemas import STATUS_NAMES, ChronicIn, SettlementStatus
from sscard.web import pages
from sscard.web.payments.common import MedicalReader, apart, form_problems, redirect, refusing
from sscard.web.payments.common import page as render_page
from sscard.web.registry.common import page_number

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/payments/medical", include_in_schema=False)


SettlerApart = Annotated[Actor, Depends(apart("payments.medical.settle"))]
ChronicApart = Annotated[Actor, Depends(apart("payments.medical.chronic"))]

PAGE_SIZE = 20
STATUS_FILTERS = {"all": "全部", **{s.value: name for s, name in STATUS_NAMES.items()}}
CHRONIC_LABELS = {
    "id_number": "公民身份号码",
    "disease_code": "病种编码",
    "disease_name": "病种名称",
    "valid_from": "有效期开始",
    "valid_to": "有效期结束",
}
REFUND_LABELS = {"reason": "退费原因", "confirm": "确认"}


@router.get("", response_class=HTMLResponse)
def settlement_list(
    request: Request, actor: MedicalReader, session: DbSession, status: str = "all", page: str = "1"
) -> HTMLResponse:
    """Settlements of the operator's region, newest first, by status (all by default)."""
    wanted = SettlementStatus(status) if status in STATUS_NAMES else None
    number = page_number(page)
    found, total = service.list_settlements(
        session, actor=actor, status=wanted, page=number, page_size=PAGE_SIZE
    )
    values = {
        "section": "medical",
        "settlements": found,
        "total": total,
        "page": number,
        "page_size": PAGE_SIZE,
        "status": wanted.value if wanted else "all",
        "status_filters": STATUS_FILTERS,
        "query": {"status": wanted.value} if wanted else {},
        "yuan": fen_to_yuan,
    }
    return render_page(request, "medical", values, actor=actor)


def _detail(
    request: Request, session: DbSession, actor: Actor, number: str, extra: dict[str, Any]
) -> HTMLResponse:
    with refusing(request):
        found = service.get_settlement(session, number=number, actor=actor)
    values = {"section": "medical", "s": found, "yuan": fen_to_yuan, "values": {}, **extra}
    status_code = int(extra.pop("status_code", 200))
    return render_page(request, "medical_detail", values, actor=actor, status_code=status_code)


@router.get("/chronic", response_class=HTMLResponse)
def chronic_list(
    request: Request, actor: MedicalReader, session: DbSession, page: str = "1"
) -> HTMLResponse:
    """Chronic-disease qualifications of the region, and the form to approve one."""
    return _chronic_page(request, session, actor, page_number(page), {})


def _chronic_page(
    request: Request, session: DbSession, actor: Actor, number: int, extra: dict[str, Any]
) -> HTMLResponse:
    found, total = chronic_service.list_qualifications(
        session, actor=actor, page=number, page_size=PAGE_SIZE
    )
    status_code = int(extra.pop("status_code", 200))
    values = {
        "section": "chronic",
        "qualifications": found,
        "total": total,
        "page": number,
        "page_size": PAGE_SIZE,
        "labels": CHRONIC_LABELS,
        "values": {},
        **extra,
    }
    return render_page(request, "chronic", values, actor=actor, status_code=status_code)


@router.post("/chronic", response_class=HTMLResponse)
def chronic_approve(request: Request, actor: ChronicApart, form: pages.FormFields) -> Response:
    """Approve a qualification; each refused input is named next to it, the rest kept."""

    def again(exc: SSCardError) -> HTMLResponse:
        shown = {k: v for k, v in form.items() if k != "id_number"}
        extra = {"values": shown, "status_code": exc.status_code}
        with db.transaction() as session:
            problems = form_problems(exc, CHRONIC_LABELS)
            return _chronic_page(request, session, actor, 1, {**extra, **problems})

    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        typed = {k: form.get(k, "").strip() for k in CHRONIC_LABELS}
        typed = {k: v for k, v in typed.items() if v}
        data = pages.parsed(ChronicIn, typed)
        chronic_service.approve(data=data, actor=actor)
    return redirect("/payments/medical/chronic", "chronic-approved")


@router.post("/chronic/{number}/revoke", response_class=HTMLResponse)
def chronic_revoke(
    request: Request, number: str, actor: ChronicApart, form: pages.FormFields
) -> Response:
    with refusing(request):
        pages.check_form_csrf(request, form.get("csrf_token"))
        chronic_service.revoke(number=number[:24], actor=actor)
    return redirect("/payments/medical/chronic", "chronic-revoked")


@router.get("/{number}", response_class=HTMLResponse)
def settlement_detail(
    request: Request, number: str, actor: MedicalReader, session: DbSession
) -> HTMLResponse:
    """One settlement: the three-way split, the items, the refund form while settled."""
    return _detail(request, session, actor, number[:24], {})


@router.post("/{number}/refund", response_class=HTMLResponse)
def settlement_refund(
    request: Request, number: str, actor: SettlerApart, form: pages.FormFields
) -> Response:
    """Refund after the clerk typed a reason and ticked the confirmation."""

    def again(exc: SSCardError) -> HTMLResponse:
        extra = {"values": form, "status_code": exc.status_code}
        with db.transaction() as session:
            problems = form_problems(exc, REFUND_LABELS)
            return _detail(request, session, actor, number[:24], {**extra, **problems})

    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        problems = []
        reason = form.get("reason", "").strip()
        if len(reason) < 2:
            problems.append(FieldProblem("reason", "请填写退费原因（至少 2 个字）"))
        if form.get("confirm") != "yes":
            problems.append(
                FieldProblem("confirm", "请勾选确认：统筹、个人账户和现金三部分将全部退回")
            )
        if problems:
            raise ValidationFailed(problems)
        done = settle_service.refund(number=number[:24], reason=reason[:200], actor=actor)
    return redirect(f"/payments/medical/{done.number}", "medical-refunded")
