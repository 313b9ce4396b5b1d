"""Reconciliation pages (商户对账): a bank's or the acquirer's daily file uploaded and matched
(导入对账文件), days with imported files, the day's figures per merchant, differences with
filters, resolving one (with a confirmation box) and approving one (a second operator); the
day's differences and merchant report as an Excel download."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.errors import FieldProblem, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.params import row_id
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor
from sscard.kit.masking import mask_text
from sscard.payments.codes.money import fen_to_yuan
from sscard.payments.recon import service as recon_service
from sscard.payments.recon.errors import DifferenceNotFound
from sscard.payments.recon.matching import DIFF_NAMES
from sscard.payments.recon.schemas import (
    ACTION_NAMES,
    STATE_NAMES,
    DayReport,
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
    form_problems,
    redirect,
    refusing,
)
from sscard.web.payments.common import page as render_page
from sscard.web.registry.common import page_number

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/payments", include_in_schema=False)
PAGE_SIZE = 50
SOURCES = {"bank": "银行", "acquirer": "收单机构"}
FILE_TYPES = (".txt", ".csv")


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


@dataclass(frozen=True)
class RawQuery:
    """The page's query string as typed (checked by :func:`_recon_view`)."""

    day: str = ""
    kind: str = ""
    state: str = ""
    source: str = ""
    merchant: str = ""
    page: str = "1"
    imported: str = ""


def _recon_view(
    request: Request,
    actor: Actor,
    session: Session,
    query: RawQuery,
    extra: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """The page for ``query`` (day, filters, page, the import just made), with ``extra``
    (the upload form's problems) on top."""
    with refusing(request):
        days = recon_service.recent_days(session, actor=actor)
        chosen = _day(query.day) or (days[0] if days else None)
        filters = _filters(query.kind, query.state, query.source, query.merchant)
        number = page_number(query.page)
        found = recon_service.list_differences(
            session, actor=actor, day=chosen, page=number, page_size=PAGE_SIZE, **filters
        )
        report = recon_service.day_report(session, day=chosen, actor=actor) if chosen else None
    limit = get_settings().recon_max_file_bytes
    values: dict[str, Any] = {
        "section": "recon",
        "days": days,
        "day": chosen,
        "report": report,
        "imported": _imported_notice(report, query.imported),
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
        "max_file_bytes": limit,
        "max_file_text": _size_text(limit),
        "yuan": yuan,
        "csrf_token": pages.csrf_token(request),
        **(extra or {}),
    }
    return render_page(request, "recon", values, actor=actor, status_code=status_code)


def _imported_notice(report: DayReport | None, imported: str) -> str | None:
    """What the file just imported (the redirect names its id) read and found, in words."""
    wanted = row_id(imported) if imported else None
    if report is None or wanted is None:
        return None
    for i in report.imports:
        if i.id == wanted:
            return (
                f"{SOURCES.get(i.source, i.source)} {i.party} {i.day} 的对账文件："
                f"读入 {i.lines} 笔，核对一致 {i.matched} 笔，发现差错 {i.differences} 笔"
                f"（扣款合计 {yuan(i.debit_fen)} 元，入账合计 {yuan(i.credit_fen)} 元）"
            )
    return None


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
    imported: str = "",
) -> HTMLResponse:
    """Days, the chosen day's report and its differences (open ones first by filter); the
    upload form for those who may import."""
    query = RawQuery(day, kind, state, source, merchant, page, imported)
    return _recon_view(request, actor, session, query)


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size // (1024 * 1024)} MB"
    return f"{size // 1024} KB" if size >= 1024 else f"{size} 字节"


def _file_problem(reason: str) -> ValidationFailed:
    return ValidationFailed([FieldProblem("file", reason)], reason)


def _file_bytes(upload: UploadFile | None) -> bytes:
    """The chosen daily file's bytes, or a refusal naming what is wrong with it."""
    if upload is None or not upload.filename:
        raise _file_problem("请选择要导入的对账文件（.txt 或 .csv）")
    if not upload.filename.lower().endswith(FILE_TYPES):
        raise _file_problem("只能导入银行或收单机构的日终对账文件（扩展名 .txt 或 .csv）")
    limit = get_settings().recon_max_file_bytes
    if upload.size is not None and upload.size > limit:
        raise _file_problem(f"文件过大：对账文件不能超过 {_size_text(limit)}，请使用命令行导入")
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise _file_problem(f"文件过大：对账文件不能超过 {_size_text(limit)}，请使用命令行导入")
    if not data:
        raise _file_problem("文件是空的（0 字节），请重新选择银行或收单机构发来的对账文件")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise _file_problem(
            "文件不是 UTF-8 编码的文本，请使用银行或收单机构发来的原始文件（不要另存为其他格式）"
        ) from None
    return data


@router.post("/recon/imports", response_class=HTMLResponse)
def import_file(
    request: Request,
    actor: ReconManager,
    session: DbSession,
    csrf_token: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Import an uploaded daily file and show its day; a refused file records nothing and
    comes back on the page with the reason (the line at fault)."""

    def again(exc: SSCardError) -> HTMLResponse:
        problems = form_problems(exc, {"file": "对账文件"})
        problems["alert"] = mask_text(exc.message)
        return _recon_view(
            request, actor, session, RawQuery(), problems, status_code=exc.status_code
        )

    with refusing(request, again):
        pages.check_form_csrf(request, csrf_token)
        data = _file_bytes(file)
        started = utcnow()
        out = recon_service.import_file(session, data=data, actor=actor)
    flash = "recon-imported" if out.imported_at >= started else "recon-imported-before"
    return redirect(f"/payments/recon?day={out.day}&imported={out.id}", flash)


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
