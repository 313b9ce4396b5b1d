"""``sscard payments orders``: orders (订单) as an operator looks them up, refunds and
closes them, and settles those whose bank answer was not known; output in Chinese."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sscard import bootstrap
from sscard.cli.common import BEIJING, beijing, cli_actor, console, status_filter, unit_of_work
from sscard.errors import FieldProblem, ValidationFailed
from sscard.kit import context
from sscard.payments.codes.errors import CodeRefused
from sscard.payments.codes.money import fen_to_yuan, yuan_to_fen
from sscard.payments.orders import service
from sscard.payments.orders.schemas import OrderOut, OrderStatus, StatusFilter

app = typer.Typer(help="Orders (订单): list, show, refund, close, resolve.", no_args_is_help=True)
OrderNo = Annotated[str, typer.Argument(help="Order number (订单号), P + 19 digits.")]


@contextmanager
def _acting(purpose: str) -> Iterator[None]:
    """For commands whose service runs its own transactions (a bank is called between)."""
    bootstrap.wire()
    with context.acting(cli_actor(), purpose=purpose):
        yield


def _show(o: OrderOut) -> None:
    rows = [
        ("订单号", o.order_no),
        ("商户", o.merchant_code),
        ("商户订单号", o.merchant_order_no),
        ("金额（元）", fen_to_yuan(o.amount_fen)),
        ("已付（元）", fen_to_yuan(o.paid_fen)),
        ("已退（元）", fen_to_yuan(o.refunded_fen)),
        ("商品类别", o.category_name),
        ("支付渠道", o.channel_name),
        ("状态", o.status_name),
        ("卡号", o.card_number or ""),
        ("失败原因", o.failure_reason or ""),
        (f"下单时间（{BEIJING}）", beijing(o.created_at)),
        (f"支付时间（{BEIJING}）", beijing(o.paid_at)),
        (f"支付时限（{BEIJING}）", beijing(o.expires_at)),
    ]
    for label, value in rows:
        console.print(f"{label}：{escape(value)}", highlight=False)


@app.command("list")
def order_list(
    merchant: Annotated[str | None, typer.Option(help="Merchant code.")] = None,
    status: Annotated[str, typer.Option(help="Status, or all.")] = "all",
    start: Annotated[str | None, typer.Option("--from", help="First Beijing day.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last Beijing day.")] = None,
    order_no: Annotated[str | None, typer.Option(help="One order number.")] = None,
    page: Annotated[int, typer.Option(min=1, max=100_000)] = 1,
    page_size: Annotated[int, typer.Option(min=1, max=200)] = 50,
) -> None:
    """List orders, newest first."""
    wanted = status_filter(status, [s.value for s in OrderStatus])
    with unit_of_work() as session:
        found, total = service.find_orders(
            session,
            actor=cli_actor(),
            merchant_code=merchant,
            status=StatusFilter(wanted or "all"),
            order_no=order_no,
            start_date=_day(start, "--from"),
            end_date=_day(end, "--to"),
            page=page,
            page_size=page_size,
        )
    table = Table("订单号", "商户", "金额（元）", "渠道", "状态", "卡号", f"下单时间（{BEIJING}）")
    for o in found:
        table.add_row(
            o.order_no,
            o.merchant_code,
            fen_to_yuan(o.amount_fen),
            o.channel_name,
            o.status_name,
            o.card_number or "",
            beijing(o.created_at),
        )
    console.print(table)
    console.print(f"共 {total} 笔订单")


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("日期格式为 YYYY-MM-DD", param_hint=option) from None


@app.command("show")
def order_show(order_no: OrderNo) -> None:
    """One order and its refunds."""
    with unit_of_work() as session:
        order = service.get_order(session, order_no=order_no, actor=cli_actor())
        refunds = service.refunds_of(session, order_no=order_no, actor=cli_actor())
    _show(order)
    for r in refunds:
        console.print(
            f"退款 {r.refund_no}：{fen_to_yuan(r.amount_fen)} 元，{r.status_name}，"
            f"{escape(r.reason)}（{beijing(r.created_at)} {BEIJING}）",
            highlight=False,
        )


@app.command("refund")
def order_refund(
    order_no: OrderNo,
    amount: Annotated[str, typer.Option(help="Amount in yuan, e.g. 12.30.")],
    reason: Annotated[str, typer.Option(help="Why (退款原因).")],
    refund_no: Annotated[
        str | None, typer.Option(help="Refund number; a new one when not given.")
    ] = None,
) -> None:
    """Refund part or all of a paid order to the card."""
    try:
        fen = yuan_to_fen(amount)
    except CodeRefused as exc:
        raise ValidationFailed([FieldProblem("amount", exc.detail)]) from exc
    number = refund_no or f"RF{secrets.token_hex(8).upper()}"
    with _acting("order refund"):
        out = service.refund(
            order_no=order_no, amount_fen=fen, reason=reason, refund_no=number, actor=cli_actor()
        )
    console.print(f"退款 {out.refund_no}：{fen_to_yuan(out.amount_fen)} 元，{out.status_name}")


@app.command("close")
def order_close(order_no: OrderNo) -> None:
    """Close an unpaid order."""
    with unit_of_work(purpose="order close") as session:
        out = service.close_order(session, order_no=order_no, actor=cli_actor())
    console.print(f"订单 {out.order_no} {out.status_name}")


@app.command("resolve")
def order_resolve(
    order_no: Annotated[str | None, typer.Argument(help="One order; all when not given.")] = None,
) -> None:
    """Ask the banks about orders paying and refunds pending, and settle what they answer."""
    with _acting("order resolve"):
        orders = service.resolve_paying(actor=cli_actor(), order_no=order_no)
        refunds = [] if order_no else service.resolve_refunds()
    for o in orders:
        console.print(f"订单 {o.order_no}：{o.status_name}")
    settled = sum(o.status != OrderStatus.paying for o in orders)
    console.print(
        f"支付中订单 {len(orders)} 笔，已确定结果 {settled} 笔；退款处理 {len(refunds)} 笔"
    )
