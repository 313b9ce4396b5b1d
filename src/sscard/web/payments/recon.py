"""Reconciliation pages (商户对账): days with imported files, the day's figures per merchant,
differences with filters, resolving one (with a confirmation box) and approving one (a
second operator); the day's differences and merchant report as an Excel download."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from sscard.errors import FieldProblem, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.params import row_id
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.payments.codes.money import fen_to_yuan
from sscard.payments.recon import service as recon_service
from sscard.payments.recon.errors import DifferenceNotFound
from sscard.payments.recon.matching import DIFF_NAMES
from sscard.payments.recon.schemas import (
    ACTION_NAMES,
    STATE_NAMES,
    DifferenceOut,
    MerchantReportRow,
    ResolveIn,
)
from sscard.settings import get_settings
from sscard.web import export, pages
from sscard.web.payments.common import (
    ReconApprover,
    ReconManager,
    ReconReader,
    redirect,
    refusing,
)
from sscard.web.payments.common import page as render_page
from sscard.web.registry.common import page_number

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/payments", include_in_schema=False)
PAGE_SIZE = 50
SOURCES = {"bank": "银行", "acquirer": "收单机构"}


def yuan(fen: int | None) -> str:
    """Fen as yuan text for a page ("-" when absent)."""
    if fen is None:
        return "-"
    return ("-" if fen < 0 else "") + fen_to_yuan(abs(fen))


def _day(text: str) -> date | None:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").date() if text.strip() else None
    except ValueError:
        return None


def _filters(kind: str, state: str, source: str, merchant: str) -> dict[str, str | None]:
    return {
        "kind": kind if kind in {k.value for k in DIFF_NAMES} else None,
        "state": state if state in {s.value for s in STATE_NAMES} else None,
        "source": source if source in SOURCES else None,
        "merchant": merchant.strip().upper()[:32] or None,
    }


@router.get("/recon", response_class=HTMLResponse)
def recon_page(
    request: Request,
    actor: ReconReader,
    session: DbSession,
    day: str = "",
    kind: str = "",
    state: str = "",
    source: str = "",
    merchant: str = "",
    page: str = "1",
) -> HTMLResponse:
    """Days, the chosen day's report and its differences (open ones first by filter)."""
    with refusing(request):
        days = recon_service.recent_days(session, actor=actor)
        chosen = _day(day) or (days[0] if days else None)
        filters = _filters(kind, state, source, merchant)
        number = page_number(page)
        found = recon_service.list_differences(
            session, actor=actor, day=chosen, page=number, page_size=PAGE_SIZE, **filters
        )
        report = recon_service.day_report(session, day=chosen, actor=actor) if chosen else None
    values: dict[str, Any] = {
        "section": "recon",
        "days": days,
        "day": chosen,
        "report": report,
        "differences": found.items,
        "total": found.total,
        "page": number,
        "page_size": PAGE_SIZE,
        "filters": {k: v or "" for k, v in filters.items()},
        "query": {"day": str(chosen or ""), **{k: v for k, v in filters.items() if v}},
        "kinds": {k.value: n for k, n in DIFF_NAMES.items()},
        "states": {s.value: n for s, n in STATE_NAMES.items()},
        "sources": SOURCES,
        "actions": {a.value: n for a, n in ACTION_NAMES.items()},
        "four_eyes_yuan": yuan(get_settings().recon_four_eyes_fen),
        "yuan": yuan,
        "csrf_token": pages.csrf_token(request),
    }
    return render_page(request, "recon", values, actor=actor)


def _diff_id(raw: str) -> int:
    wanted = row_id(raw)
    if wanted is None:
        raise DifferenceNotFound(f"差错 {raw[:20]} 不存在")
    return wanted


@router.post("/recon/differences/{diff_id}/resolve", response_class=HTMLResponse)
def resolve(
    request: Request, diff_id: str, actor: ReconManager, session: DbSession, form: pages.FormFields
) -> Response:
    """Resolve a difference once the clerk ticked the confirmation box."""
    with refusing(request):
        pages.check_form_csrf(request, form.get("csrf_token"))
        if form.get("confirm") != "yes":
            raise ValidationFailed(
                [FieldProblem("confirm", "请勾选“已核对，确认按此处理”后再提交")]
            )
        data = pages.parsed(
            ResolveIn,
            {"action": form.get("action", ""), "reason": form.get("reason", "")},
            {"action": "请选择处理方式", "reason": "请填写处理说明（2 至 200 字）"},
        )
        out = recon_service.resolve(session, diff_id=_diff_id(diff_id), data=data, actor=actor)
    flash = "diff-awaiting" if out.state == "awaiting_approval" else "diff-resolved"
    return redirect(f"/payments/recon?day={out.day}", flash)


@router.post("/recon/differences/{diff_id}/approve", response_class=HTMLResponse)
def approve(
    request: Request, diff_id: str, actor: ReconApprover, session: DbSession, form: pages.FormFields
) -> Response:
    """A second operator approves an adjustment above the limit."""
    with refusing(request):
        pages.check_form_csrf(request, form.get("csrf_token"))
        out = recon_service.approve(session, diff_id=_diff_id(diff_id), actor=actor)
    return redirect(f"/payments/recon?day={out.day}", "diff-approved")


DIFF_COLUMNS: list[export.Column[DifferenceOut]] = [
    export.Column("编号", lambda d: d.id),
    export.Column("清算日", lambda d: d.day),
    export.Column("来源", lambda d: SOURCES.get(d.source, d.source)),
    export.Column("机构", lambda d: d.party),
    export.Column("参考号", lambda d: d.ref),
    export.Column("差错类型", lambda d: d.kind_name),
    export.Column("商户", lambda d: d.merchant_code),
    export.Column("我方金额（元）", lambda d: yuan(d.ours_fen)),
    export.Column("对方金额（元）", lambda d: yuan(d.theirs_fen)),
    export.Column("我方状态", lambda d: d.ours_status),
    export.Column("对方状态", lambda d: d.theirs_status),
    export.Column("处理状态", lambda d: d.state_name),
    export.Column("调账金额（元）", lambda d: yuan(d.adjust_fen)),
    export.Column("处理说明", lambda d: d.reason),
]
MERCHANT_COLUMNS: list[export.Column[MerchantReportRow]] = [
    export.Column("商户", lambda r: r.merchant_code),
    export.Column("支付笔数", lambda r: r.pay_count),
    export.Column("支付金额（元）", lambda r: yuan(r.pay_fen)),
    export.Column("退款笔数", lambda r: r.refund_count),
    export.Column("退款金额（元）", lambda r: yuan(r.refund_fen)),
    export.Column("手续费（元）", lambda r: yuan(r.fee_fen)),
    export.Column("结算净额（元）", lambda r: yuan(r.net_fen)),
    export.Column("差错笔数", lambda r: r.differences),
    export.Column("未处理差错", lambda r: r.open_differences),
]


@router.get("/recon/export")
def recon_export(
    request: Request,
    actor: ReconReader,
    session: DbSession,
    day: str = "",
    what: str = "differences",
    format: str = "xlsx",
) -> Response:
    """The day's differences or its per-merchant report as Excel (or CSV)."""
    with refusing(request):
        chosen = _day(day)
        if chosen is None:
            raise ValidationFailed([FieldProblem("day", "请选择清算日（yyyy-mm-dd）")])
        fmt = export.check_format(format)
        if what == "merchants":
            rows = recon_service.day_report(session, day=chosen, actor=actor).merchants
            return export.export(
                rows, MERCHANT_COLUMNS, fmt=fmt, name="merchant-report", title=f"商户对账{chosen}"
            )
        found = recon_service.list_differences(
            session, actor=actor, day=chosen, page_size=export.MAX_ROWS + 1
        )
        export.check_count(found.total)
        return export.export(
            found.items, DIFF_COLUMNS, fmt=fmt, name="recon-differences", title=f"对账差错{chosen}"
        )
