"""``sscard audit``: search the log, prove the chain, print the head for anchoring."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from sscard.audit import service as audit_service
from sscard.audit.schemas import EntryFilter
from sscard.cli.common import BEIJING, beijing, console, err_console, unit_of_work

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@app.command("verify")
def verify() -> None:
    """Recompute the SM3 hash chain; name the first broken entry after any tampering."""
    with unit_of_work(purpose="audit verify") as session:
        report = audit_service.verify_chain(session)
    if report.ok:
        console.print(f"审计链完整：{report.entries} 条，链头 {report.head_hash[:16]}…")
        return
    row = f"（行 id {report.broken_entry_id}）" if report.broken_entry_id else ""
    err_console.print(
        f"[red]审计链 {report.broken_chain} 已断开[/red]，位置：第 {report.broken_seq} 条{row}："
        f"{report.reason}",
        highlight=False,
    )
    raise typer.Exit(1)


@app.command("list")
def list_entries(
    actor: Annotated[str | None, typer.Option(help="Actor id (username, cli:user ...).")] = None,
    action: Annotated[str | None, typer.Option(help="Action prefix, e.g. iam.login.")] = None,
    subject_type: Annotated[str | None, typer.Option(help="Subject type, e.g. person.")] = None,
    subject_id: Annotated[str | None, typer.Option(help="Subject id.")] = None,
    outcome: Annotated[str | None, typer.Option(help="success, denied or failed.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 50,
) -> None:
    """Show the newest audit entries matching the filters."""
    flt = EntryFilter(
        actor_id=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        outcome=outcome,
    )
    with unit_of_work() as session:
        page = audit_service.search(session, flt, page=1, page_size=limit)
    table = Table("链.序号", f"时间（{BEIJING}）", "操作人", "操作", "对象", "字段", "结果")
    for e in page.items:
        table.add_row(
            f"{e.chain}.{e.seq}",
            beijing(e.occurred_at),
            e.actor_id,
            e.action,
            e.subject_display or "",
            ",".join(e.fields),
            e.outcome,
        )
    console.print(table)
    console.print(f"显示 {len(page.items)} 条，共 {page.total} 条")


@app.command("anchor")
def anchor() -> None:
    """Print the chain head (sequence and hash) to keep outside the database."""
    with unit_of_work() as session:
        tips = audit_service.head(session)
    for chain, seq, digest in tips:
        console.print(f"审计链 {chain}：第 {seq} 条 {digest}")
