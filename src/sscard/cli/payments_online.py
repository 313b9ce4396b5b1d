"""``sscard payments online`` (网银支付 keys and status queries) and ``sscard payments
contributions`` (人社缴费 grades and records); output in Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sscard.cli.common import BEIJING, beijing, cli_actor, console, status_filter, unit_of_work
from sscard.errors import SSCardError
from sscard.payments.codes.money import fen_to_yuan
from sscard.payments.contributions import service as contributions_service
from sscard.payments.online import keys as online_keys
from sscard.payments.online import service as online_service

online_app = typer.Typer(help="Online banking (网银支付): keys and status.", no_args_is_help=True)
contributions_app = typer.Typer(help="Contributions (人社缴费).", no_args_is_help=True)
STATUS_NAMES = {
    "unpaid": "待支付",
    "paid": "已支付待上报",
    "reported": "已上报",
    "refused": "上报被拒",
}


@online_app.command("publish")
def publish(
    directory: Annotated[Path, typer.Option("--dir", help="Folder the banks read keys from.")],
) -> None:
    """Write the platform's pay-request public key as <dir>/<region>-pay.pem for the banks."""
    with unit_of_work(purpose="online pay key") as session:
        path = online_keys.publish(session, directory=directory)
    console.print(f"平台网银支付请求签名公钥已写入 {path}")


@online_app.command("bank-key")
def bank_key(
    bank_code: Annotated[str, typer.Argument(help="The bank's institution code.")],
    source: Annotated[Path, typer.Option("--in", help="The bank's public key (PEM).")],
) -> None:
    """Trust a bank's public key for its payment notices (网银支付结果通知)."""
    try:
        text = source.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise SSCardError(f"无法读取公钥文件 {source}：{type(exc).__name__}") from exc
    with unit_of_work(purpose="online bank key") as session:
        name = online_keys.import_bank_key(session, bank_code=bank_code, pem_text=text)
    console.print(f"已导入 {bank_code} 的网银通知验签公钥（密钥名 {name}）")


@online_app.command("query")
def query(order_no: Annotated[str, typer.Argument(help="The platform's order number.")]) -> None:
    """Ask the bank about an order paid online that is still waiting for its notice."""
    out = online_service.query_bank(order_no=order_no, actor=cli_actor())
    shown = (
        "已支付"
        if out.status == "paid"
        else "等待银行结果"
        if out.status == "redirected"
        else out.status
    )
    console.print(
        f"订单 {out.order_no}（{out.bank_code}，{fen_to_yuan(out.amount_fen)} 元）：{shown}"
    )


@contributions_app.command("grades")
def grades() -> None:
    """The open years and the yearly grades residents may choose."""
    found = contributions_service.options()
    console.print(f"{found.insurance}  可缴年度：{'、'.join(str(y) for y in found.years)}")
    console.print("缴费档次（元/年）：" + "、".join(fen_to_yuan(g) for g in found.grades_fen))


@contributions_app.command("list")
def list_contributions(
    status: Annotated[str, typer.Option(help="unpaid, paid, reported, refused or all.")] = "all",
    page: Annotated[int, typer.Option(min=1, max=100_000)] = 1,
    page_size: Annotated[int, typer.Option(min=1, max=200)] = 50,
) -> None:
    """Contributions of the region, newest first (the person is never shown)."""
    wanted = status_filter(status, STATUS_NAMES)
    with unit_of_work() as session:
        found = contributions_service.list_in_region(
            session, actor=cli_actor(), status=wanted, page=page, page_size=page_size
        )
    table = Table("年度", "档次（元）", "订单号", "支付方式", "状态", f"上报时间（{BEIJING}）")
    for row in found:
        table.add_row(
            str(row.year),
            fen_to_yuan(row.grade_fen),
            row.order_no,
            "网银" if row.channel == "online_bank" else "社保卡",
            STATUS_NAMES.get(row.status, row.status),
            beijing(row.reported_at),
        )
    console.print(table)
