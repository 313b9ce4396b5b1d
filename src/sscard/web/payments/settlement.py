"""The settlement report page (结算报表): cleared days with a bar chart of what was paid out
(an SVG drawn here, no script), the chosen day's merchants and banks, and the merchants'
settlement as an Excel download."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from sscard.errors import FieldProblem, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.payments.clearing import service as clearing_service
from sscard.payments.clearing.schemas import ClearingDaySummary, ClearingLineOut
from sscard.web import export
from sscard.web.payments.common import SettlementReader, refusing
from sscard.web.payments.common import page as render_page
from sscard.web.payments.recon import yuan

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/payments", include_in_schema=False)
DAYS_SHOWN = 30
WIDTH, HEIGHT, BAR_AREA = 640, 220, 170


def bar_chart(days: list[ClearingDaySummary]) -> dict[str, Any]:
    """Settled amount per day as bars of an SVG chart (oldest on the left); the template
    draws them, so every text is escaped there."""
    ordered = sorted(days, key=lambda d: d.day)
    top = max((d.settled_fen for d in ordered), default=0) or 1
    step = WIDTH / max(len(ordered), 1)
    bars = []
    for i, d in enumerate(ordered):
        h = round(BAR_AREA * d.settled_fen / top)
        bars.append(
            {
                "x": round(i * step + step * 0.15, 1),
                "y": 10 + BAR_AREA - h,
                "width": round(step * 0.7, 1),
                "height": h,
                "middle": round(i * step + step / 2, 1),
                "label": f"{d.day:%m-%d}",
                "title": f"{d.day:%Y-%m-%d} 结算 {yuan(d.settled_fen)} 元",
            }
        )
    return {
        "bars": bars,
        "width": WIDTH,
        "height": HEIGHT,
        "base": 10 + BAR_AREA,
        "top": yuan(top),
    }


def _day(text: str) -> date | None:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").date() if text.strip() else None
    except ValueError:
        return None


@router.get("/settlement", response_class=HTMLResponse)
def settlement_page(
    request: Request, actor: SettlementReader, session: DbSession, day: str = ""
) -> HTMLResponse:
    """The settlement chart of the days up to the chosen one (or today) and one day's
    merchants and banks."""
    asked = _day(day)
    last = asked or clearing_service.current_day()
    with refusing(request):
        days = clearing_service.list_days(
            session, start=last - timedelta(days=DAYS_SHOWN), end=last, actor=actor
        )
        chosen = asked or (days[0].day if days else None)
        detail = clearing_service.find_day(session, day=chosen) if chosen else None
    values: dict[str, Any] = {
        "section": "settlement",
        "days": days,
        "day": chosen,
        "detail": detail,
        "chart": bar_chart(days),
        "yuan": yuan,
    }
    return render_page(request, "settlement", values, actor=actor)


COLUMNS: list[export.Column[ClearingLineOut]] = [
    export.Column("商户", lambda x: x.party),
    export.Column("支付笔数", lambda x: x.pay_count),
    export.Column("支付金额（元）", lambda x: yuan(x.pay_fen)),
    export.Column("退款笔数", lambda x: x.refund_count),
    export.Column("退款金额（元）", lambda x: yuan(x.refund_fen)),
    export.Column("手续费（元）", lambda x: yuan(x.fee_fen)),
    export.Column("结算金额（元）", lambda x: yuan(x.net_fen)),
]


@router.get("/settlement/export")
def settlement_export(
    request: Request,
    actor: SettlementReader,
    session: DbSession,
    day: str = "",
    format: str = "xlsx",
) -> Response:
    """One day's merchant settlement as Excel (or CSV)."""
    with refusing(request):
        chosen = _day(day)
        if chosen is None:
            raise ValidationFailed([FieldProblem("day", "请选择清算日（yyyy-mm-dd）")])
        fmt = export.check_format(format)
        detail = clearing_service.get_day(session, day=chosen, actor=actor)
        return export.export(
            detail.merchants, COLUMNS, fmt=fmt, name="settlement", title=f"商户结算{chosen}"
        )
