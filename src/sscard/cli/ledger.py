"""``sscard ledger``: verify the books, list accounts, list an account's transfers."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeElapsedColumn
from rich.table import Table

from sscard.cli.common import BEIJING, beijing, console, err_console, unit_of_work
from sscard.kit.context import SYSTEM
from sscard.payments.ledger import service as ledger_service
from sscard.payments.ledger import verify as ledger_verify
from sscard.payments.ledger.rules import ACCOUNT_KIND_NAMES, AccountKind

app = typer.Typer(help="The double-entry ledger (资金总账).", no_args_is_help=True)

STAGES = {"transfers": "重放转账", "accounts": "核对账户"}


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


@app.command("verify")
def verify() -> None:
    """Recompute every account's totals from the transfers; name the first broken account."""
    columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with (
        unit_of_work(purpose="ledger verify") as session,
        Progress("{task.description}", *columns, console=err_console, transient=True) as bar,
    ):
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(STAGES[stage], total=total)
            bar.update(tasks[stage], completed=done)

        report = ledger_verify.verify_ledger(session, progress=progress)
    if report.ok:
        console.print(f"总账一致：{report.accounts} 个账户，{report.transfers} 笔转账")
        return
    where = (
        f"账户 {report.broken_account}"
        if report.broken_account
        else f"转账 {report.broken_transfer}"
        if report.broken_transfer
        else "全部账户"
    )
    err_console.print(f"[red]总账不一致[/red]：{where}：{report.reason}", highlight=False)
    raise typer.Exit(1)


@app.command("accounts")
def accounts(
    kind: Annotated[AccountKind | None, typer.Option(help="Only accounts of this kind.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="How many, by code.")] = 50,
) -> None:
    """Accounts with their totals and balance (yuan)."""
    with unit_of_work() as session:
        page = ledger_service.list_accounts(
            session, actor=SYSTEM, kind=kind.value if kind else None, page=1, page_size=limit
        )
    table = Table("账户代码", "类型", "借方已入账", "贷方已入账", "在途(借/贷)", "余额（元）")
    for a in page.items:
        table.add_row(
            a.code,
            ACCOUNT_KIND_NAMES[AccountKind(a.kind)],
            _yuan(a.debits_posted),
            _yuan(a.credits_posted),
            f"{_yuan(a.debits_pending)} / {_yuan(a.credits_pending)}",
            _yuan(a.balance),
        )
    console.print(table)
    console.print(f"共 {page.total} 个账户，显示 {len(page.items)} 个")


@app.command("transfers")
def transfers(
    account: Annotated[str, typer.Option(help="Account code, e.g. merchant:M001.")],
    limit: Annotated[int, typer.Option(min=1, max=200, help="How many, newest first.")] = 50,
) -> None:
    """An account's transfers, newest first."""
    with unit_of_work() as session:
        page = ledger_service.list_transfers(
            session, actor=SYSTEM, account=account, page=1, page_size=limit
        )
    table = Table(f"时间（{BEIJING}）", "参考号", "类型", "借方", "贷方", "金额（元）", "用途")
    for t in page.items:
        table.add_row(
            beijing(t.created_at),
            t.ref,
            t.kind.value,
            t.debit_account,
            t.credit_account,
            _yuan(t.amount),
            t.code,
        )
    console.print(table)
    console.print(f"共 {page.total} 笔，显示 {len(page.items)} 笔")
