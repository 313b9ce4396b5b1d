"""Order pages (订单): the region's orders searched by merchant, status, channel, order
number and Beijing days, exported as CSV or Excel; an order's page with its refunds, the
close action and the refund form, which shows a confirmation page before the refund is
made. The refund calls the card's bank, so its handler holds no request transaction: the
operator is checked in a unit of work of its own and the service runs its own."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from sscard import db
from sscard.errors import FieldProblem, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor
from sscard.payments.codes.errors import CodeRefused
from sscard.payments.codes.money import fen_to_yuan, yuan_to_fen
from sscard.payments.orders import service as orders_service
from sscard.payments.orders.schemas import (
    CHANNEL_NAMES,
    STATUS_NAMES,
    OrderOut,
    StatusFilter,
)
from sscard.web import export, pages
from sscard.web.export import Column
from sscard.web.payments.common import (
    OrderManager,
    OrderReader,
    apart,
    form_problems,
    redirect,
    refusing,
)
from sscard.web.payments.common import page as render_page
from sscard.web.registry.common import page_number

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/payments/orders", include_in_schema=False)

PAGE_SIZE = 20
STATUS_FILTERS = {"all": "全部", **{s.value: name for s, name in STATUS_NAMES.items()}}
CHANNELS = {c.value: name for c, name in CHANNEL_NAMES.items()}
FILTERS = ("merchant_code", "status", "channel", "order_no", "start_date", "end_date")
COLUMNS: list[Column[OrderOut]] = [
    Column("订单号", lambda o: o.order_no),
    Column("商户编号", lambda o: o.merchant_code),
    Column("商户订单号", lambda o: o.merchant_order_no),
    Column("金额（元）", lambda o: fen_to_yuan(o.amount_fen)),
    Column("已退（元）", lambda o: fen_to_yuan(o.refunded_fen)),
    Column("商品类别", lambda o: o.category_name),
    Column("支付渠道", lambda o: o.channel_name),
    Column("状态", lambda o: o.status_name),
    Column("卡号", lambda o: o.card_number),
    Column("下单时间（北京时间）", lambda o: o.created_at),
    Column("支付时间（北京时间）", lambda o: o.paid_at),
]


def _day(raw: str, field: str, label: str) -> date | None:
    text = raw.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed([FieldProblem(field, f"{label}格式应为 年-月-日")]) from None


def _criteria(raw: dict[str, str]) -> dict[str, Any]:
    """The search as the service takes it (the same for the page and the export)."""
    status = raw.get("status", "all")
    channel = raw.get("channel", "")
    return {
        "merchant_code": raw.get("merchant_code", "").strip()[:32] or None,
        "status": StatusFilter(status) if status in STATUS_FILTERS else StatusFilter.all,
        "channel": channel if channel in CHANNELS else None,
        "order_no": raw.get("order_no", "").strip()[:20] or None,
        "start_date": _day(raw.get("start_date", ""), "start_date", "开始日期"),
        "end_date": _day(raw.get("end_date", ""), "end_date", "结束日期"),
    }


@router.get("", response_class=HTMLResponse)
def order_list(request: Request, actor: OrderReader, session: DbSession) -> HTMLResponse:
    """Orders of the operator's region, newest first."""
    raw = {k: request.query_params.get(k, "")[:40] for k in FILTERS}
    number = page_number(request.query_params.get("page"))
    values: dict[str, Any] = {
        "section": "orders",
        "raw": raw,
        "query": {k: v for k, v in raw.items() if v},
        "status_filters": STATUS_FILTERS,
        "channels": CHANNELS,
        "orders": [],
        "total": 0,
        "page": number,
        "page_size": PAGE_SIZE,
    }
    try:
        found, total = orders_service.find_orders(
            session, actor=actor, **_criteria(raw), page=number, page_size=PAGE_SIZE
        )
        values |= {"orders": found, "total": total}
    except ValidationFailed as exc:
        values |= form_problems(exc, {"start_date": "开始日期", "end_date": "结束日期"})
        return render_page(request, "orders", values, actor=actor, status_code=422)
    return render_page(request, "orders", values, actor=actor)


@router.post("/export", response_class=Response)
def order_export(
    request: Request, actor: OrderReader, session: DbSession, form: pages.FormFields
) -> Response:
    """The orders the search finds, as a CSV or Excel file (card numbers masked)."""
    with refusing(request):
        pages.check_form_csrf(request, form.get("csrf_token"))
        fmt = export.check_format(form.get("format", ""))
        found, total = orders_service.find_orders(
            session, actor=actor, **_criteria(form), page=1, page_size=export.MAX_ROWS + 1
        )
        export.check_count(total)
        return export.export(found, COLUMNS, fmt=fmt, name="orders", title="支付订单")


def _detail(
    request: Request, session: Session, actor: Actor, order_no: str, extra: dict[str, Any]
) -> HTMLResponse:
    with refusing(request):
        order = orders_service.get_order(session, order_no=order_no[:20], actor=actor)
        refunds = orders_service.refunds_of(session, order_no=order.order_no, actor=actor)
    values = {
        "section": "orders",
        "order": order,
        "refunds": refunds,
        "refundable": fen_to_yuan(order.paid_fen - order.refunded_fen),
        "values": {},
        **extra,
    }
    return render_page(
        request, "order", values, actor=actor, status_code=extra.pop("status_code", 200)
    )


@router.get("/{order_no}", response_class=HTMLResponse)
def order_detail(
    request: Request, order_no: str, actor: OrderReader, session: DbSession
) -> HTMLResponse:
    """One order, its refunds and (for those who may) its actions."""
    return _detail(request, session, actor, order_no, {})


@router.post("/{order_no}/close", response_class=HTMLResponse)
def order_close(
    request: Request,
    order_no: str,
    actor: OrderManager,
    session: DbSession,
    form: pages.FormFields,
) -> Response:
    """Close an unpaid order."""
    with refusing(request):
        pages.check_form_csrf(request, form.get("csrf_token"))
        orders_service.close_order(session, order_no=order_no[:20], actor=actor)
    return redirect(f"/payments/orders/{order_no[:20]}", "order-closed")


Refunder = Annotated[Actor, Depends(apart("payments.refunds.manage"))]
Resolver = Annotated[Actor, Depends(apart("payments.orders.manage"))]


@router.post("/{order_no}/resolve", response_class=HTMLResponse)
def order_resolve(
    request: Request, order_no: str, actor: Resolver, form: pages.FormFields
) -> Response:
    """Ask the bank what became of a paying order (查询支付结果)."""
    with refusing(request):
        pages.check_form_csrf(request, form.get("csrf_token"))
        orders_service.resolve_paying(actor=actor, order_no=order_no[:20])
    return redirect(f"/payments/orders/{order_no[:20]}", "order-resolved")


def _refund_fen(form: dict[str, str]) -> int:
    try:
        return yuan_to_fen(form.get("amount", "").strip())
    except CodeRefused as exc:
        raise ValidationFailed([FieldProblem("amount", exc.detail)]) from exc


@router.post("/{order_no}/refund", response_class=HTMLResponse)
def order_refund(
    request: Request, order_no: str, actor: Refunder, form: pages.FormFields
) -> Response:
    """Without ``confirmed=yes``: the confirmation page. With it: the refund, then the order."""
    typed = {k: form.get(k, "").strip()[:200] for k in ("amount", "reason", "refund_no")}

    def again(exc: SSCardError) -> HTMLResponse:
        problems = form_problems(exc, {"amount": "退款金额", "reason": "退款原因"})
        with db.transaction() as session:
            extra = {"values": typed, "status_code": exc.status_code, **problems}
            return _detail(request, session, actor, order_no, extra)

    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        fen = _refund_fen(form)
        if not typed["reason"]:
            raise ValidationFailed([FieldProblem("reason", "请填写退款原因")])
        if form.get("confirmed") != "yes":
            with db.transaction() as session:
                order = orders_service.get_order(session, order_no=order_no[:20], actor=actor)
            left = order.paid_fen - order.refunded_fen
            if fen > left:
                reason = f"退款金额超过可退金额 {fen_to_yuan(left)} 元"
                raise ValidationFailed([FieldProblem("amount", reason)])
            values = {
                "section": "orders",
                "order": order,
                "amount": fen_to_yuan(fen),
                "reason": typed["reason"],
                "refund_no": f"RF{secrets.token_hex(8).upper()}",
            }
            return render_page(request, "refund_confirm", values, actor=actor)
        orders_service.refund(
            order_no=order_no[:20],
            amount_fen=fen,
            reason=typed["reason"],
            refund_no=typed["refund_no"] or f"RF{secrets.token_hex(8).upper()}",
            actor=actor,
        )
    return redirect(f"/payments/orders/{order_no[:20]}", "refunded")
