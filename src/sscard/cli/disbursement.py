"""``sscard payments disbursement``: benefit batches (待遇发放) from the command line.

``import`` checks a file whole (nothing is imported if a row is bad); ``send`` writes and
delivers a payment file per bank; ``fetch`` applies the banks' return files; ``show`` the
batch with its totals and lines; ``retry`` pays again the lines refused for a cancelled
card whose replacement card is live (the worker does the same); ``check`` the invariant.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sscard import bootstrap
from sscard.cli.common import BEIJING, beijing, cli_actor, console, unit_of_work
from sscard.errors import SSCardError
from sscard.kit import context
from sscard.payments.codes.money import fen_to_yuan
from sscard.payments.disbursement import dispatch, service
from sscard.payments.disbursement.schemas import BatchOut, LineFilter, RunReport

app = typer.Typer(help="Benefit disbursement (待遇发放).", no_args_is_help=True)
BatchNo = Annotated[str, typer.Argument(help="Batch number (发放批次号), e.g. D202612040001.")]


@contextmanager
def _acting(purpose: str) -> Iterator[None]:
    """Act as the command's user for work that opens its own transactions."""
    bootstrap.wire()
    with context.acting(cli_actor(), purpose=purpose):
        yield


def _yuan(fen: int) -> str:
    return f"{fen_to_yuan(fen)} 元"


def _summary(b: BatchOut) -> None:
    t = b.totals
    console.print(
        f"批次 {b.batch_no}（{b.kind_name} {b.period}，{b.status_name}）：{t.lines} 笔 "
        f"{_yuan(t.total_fen)}；已发送 {_yuan(t.sent_fen)}，已到账 {_yuan(t.paid_fen)}"
        f"（{t.paid_lines} 笔），失败 {t.failed_lines} 笔，挂账 {_yuan(t.in_suspense_fen)}",
        highlight=False,
    )


def _report(r: RunReport) -> None:
    console.print(
        f"发送文件 {r.files_sent} 个，回盘 {r.files_returned} 个：到账 {r.lines_paid} 笔，"
        f"失败 {r.lines_failed} 笔，重新发放 {r.lines_retried} 笔",
        highlight=False,
    )
    for problem in r.problems:
        console.print(f"未完成：{escape(problem)}", highlight=False)


@app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or XLSX.")],
) -> None:
    """Import a benefit file (社会保障号码, 姓名, 金额, 待遇类型, 期别) as a new batch."""
    try:
        with unit_of_work("disbursement import") as session:
            batch = service.import_file(
                session, path=path, source_name=path.name, actor=cli_actor()
            )
            out = service.batch_out(session, batch)
    except SSCardError as exc:
        for problem in exc.fields:
            console.print(f"{problem.field}：{escape(problem.reason)}", highlight=False)
        raise
    _summary(out)


@app.command("send")
def send(batch_no: BatchNo) -> None:
    """Write and deliver a payment file per bank (SSCARD_BANK_URLS)."""
    with _acting("disbursement send"):
        _report(dispatch.send_batch(batch_no=batch_no, actor=cli_actor()))


@app.command("fetch")
def fetch(batch_no: BatchNo) -> None:
    """Download and apply the banks' return files."""
    with _acting("disbursement fetch"):
        _report(dispatch.fetch_returns(batch_no=batch_no, actor=cli_actor()))


@app.command("retry")
def retry() -> None:
    """Pay again the lines refused for a cancelled card once the replacement card is live."""
    with _acting("disbursement retry"):
        _report(dispatch.retry_due(actor=cli_actor()))


@app.command("show")
def show(
    batch_no: BatchNo,
    status: Annotated[
        LineFilter, typer.Option(help="Lines of this status, or all.")
    ] = LineFilter.all,
) -> None:
    """The batch with its totals and lines."""
    with unit_of_work() as session:
        actor = cli_actor()
        out = service.batch_out(session, service.get_batch(session, batch_no=batch_no, actor=actor))
        lines, total = service.list_lines(
            session, actor=actor, batch_no=batch_no, status=status, page=1, page_size=200
        )
    _summary(out)
    console.print(
        f"导入时间（{BEIJING}）：{beijing(out.created_at)}；更新时间：{beijing(out.updated_at)}",
        highlight=False,
    )
    table = Table("明细", "行", "姓名", "卡号", "金额（元）", "状态", "原因或处理说明")
    for x in lines:
        table.add_row(
            str(x.id),
            str(x.row_no),
            escape(x.name),
            x.card_number,
            fen_to_yuan(x.amount_fen),
            x.status_name,
            escape("；".join(t for t in (x.fail_reason, x.note) if t)),
        )
    console.print(table)
    console.print(f"共 {total} 笔")


@app.command("check")
def check() -> None:
    """Money out = money confirmed by the banks + money in suspense (exit 1 if not)."""
    with unit_of_work() as session:
        report = service.check_invariant(session)
    console.print(
        f"发出 {_yuan(report.out_fen)} = 银行确认 {_yuan(report.confirmed_fen)} + 挂账 "
        f"{_yuan(report.suspense_fen)}；在途 {_yuan(report.in_flight_fen)}",
        highlight=False,
    )
    if not report.ok:
        raise SSCardError(f"待遇发放资金不平：{report.reason}")
