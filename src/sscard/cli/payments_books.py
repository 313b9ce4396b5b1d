"""``sscard payments clearing|recon``: clearing days, daily files, differences; in Chinese."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sscard.cli.common import BEIJING, beijing, cli_actor, console, unit_of_work
from sscard.errors import SSCardError
from sscard.payments.clearing import service as clearing_service
from sscard.payments.codes.money import fen_to_yuan
from sscard.payments.recon import service as recon_service
from sscard.payments.recon.matching import DiffKind
from sscard.payments.recon.schemas import Action, DiffState, ResolveIn

clearing_app = typer.Typer(help="Clearing and settlement (清分结算).", no_args_is_help=True)
recon_app = typer.Typer(help="Reconciliation (对账).", no_args_is_help=True)

Day = Annotated[str, typer.Option(help="Clearing day, yyyy-mm-dd.")]


def _day(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise SSCardError(f"日期 {text} 格式不正确，应为 yyyy-mm-dd") from None


def _yuan(fen: int | None) -> str:
    if fen is None:
        return "-"
    return ("-" if fen < 0 else "") + fen_to_yuan(abs(fen))


@clearing_app.command("run")
def clearing_run(day: Day) -> None:
    """Clear and settle a day after its cut-off (running it again changes nothing)."""
    with unit_of_work(purpose="clearing") as session:
        out = clearing_service.run_day(session, day=_day(day), actor=cli_actor())
    console.print(
        f"清算日 {out.day}：支付 {out.pay_count} 笔 {_yuan(out.pay_fen)} 元，退款 "
        f"{out.refund_count} 笔 {_yuan(out.refund_fen)} 元，手续费 {_yuan(out.fee_fen)} 元，"
        f"结算划付 {_yuan(out.settled_fen)} 元；"
        f"结算文件 {out.file_name}（SM3 {out.file_sm3[:16]}…）"
    )
    table = Table(
        "类型",
        "机构/商户",
        "支付笔数",
        "支付金额（元）",
        "退款（元）",
        "手续费（元）",
        "净额（元）",
    )
    for line in [*out.merchants, *out.banks]:
        table.add_row(
            "商户" if line.party_kind == "merchant" else "银行",
            line.party,
            str(line.pay_count),
            _yuan(line.pay_fen),
            _yuan(line.refund_fen),
            _yuan(line.fee_fen),
            _yuan(line.net_fen),
        )
    console.print(table)


@recon_app.command("import")
def recon_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The daily file.")],
) -> None:
    """Import a bank's or the acquirer's daily file and match it against our books."""
    with unit_of_work(purpose="reconciliation") as session:
        out = recon_service.import_file(session, data=file.read_bytes(), actor=cli_actor())
    console.print(
        f"{out.day} {out.source} {out.party}：{out.lines} 笔，一致 {out.matched} 笔，"
        f"差错 {out.differences} 笔"
    )


@recon_app.command("diffs")
def recon_diffs(
    day: Annotated[str | None, typer.Option(help="Clearing day, yyyy-mm-dd.")] = None,
    kind: Annotated[DiffKind | None, typer.Option(help="Kind of difference.")] = None,
    state: Annotated[DiffState | None, typer.Option(help="State.")] = None,
    page_size: Annotated[int, typer.Option(min=1, max=500)] = 100,
) -> None:
    """List differences."""
    with unit_of_work() as session:
        found = recon_service.list_differences(
            session,
            actor=cli_actor(),
            day=_day(day) if day else None,
            kind=kind.value if kind else None,
            state=state.value if state else None,
            page_size=page_size,
        )
    table = Table(
        "编号", "日期", "来源", "参考号", "类型", "商户", "我方（元）", "对方（元）", "状态"
    )
    for d in found.items:
        table.add_row(
            str(d.id),
            str(d.day),
            d.party,
            d.ref,
            d.kind_name,
            d.merchant_code or "",
            _yuan(d.ours_fen),
            _yuan(d.theirs_fen),
            d.state_name,
        )
    console.print(table)
    console.print(f"共 {found.total} 笔差错")


@recon_app.command("resolve")
def recon_resolve(
    diff_id: Annotated[int, typer.Argument(help="Difference number.")],
    action: Annotated[Action, typer.Option(help="adjust (调账) or accept (无需调账).")],
    reason: Annotated[str, typer.Option(help="Why (处理说明).")],
) -> None:
    """Resolve a difference; above the four-eyes limit it waits for a second operator."""
    data = ResolveIn(action=action, reason=reason)
    with unit_of_work(purpose="reconciliation") as session:
        out = recon_service.resolve(session, diff_id=diff_id, data=data, actor=cli_actor())
    console.print(f"差错 {out.id}：{out.state_name}（{BEIJING} {beijing(out.resolved_at)}）")


@recon_app.command("approve")
def recon_approve(diff_id: Annotated[int, typer.Argument(help="Difference number.")]) -> None:
    """Approve an adjustment above the limit (a second operator)."""
    with unit_of_work(purpose="reconciliation") as session:
        out = recon_service.approve(session, diff_id=diff_id, actor=cli_actor())
    console.print(f"差错 {out.id}：{out.state_name}，调账 {_yuan(out.adjust_fen)} 元已入账")
