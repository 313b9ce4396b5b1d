"""``sscard codes``: code sets and the translation tables of external systems (数据翻译)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sscard.cli.common import console, err_console, unit_of_work
from sscard.exchange.errors import ImportRejected
from sscard.exchange.translation import service as exchange_service
from sscard.exchange.translation.schemas import ImportReport

app = typer.Typer(
    help="Code sets and translation tables (数据翻译): list, show, translate, import, export.",
    no_args_is_help=True,
)

InFile = Annotated[
    Path,
    typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV file (UTF-8 or GB18030)."),
]
OutFile = Annotated[
    Path | None, typer.Argument(dir_okay=False, help="Where to write; standard output if left out.")
]
Check = Annotated[
    bool, typer.Option("--check", help="Only check the file and report; change nothing.")
]


def _write(content: bytes, target: Path | None) -> None:
    if target is None:
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return
    target.write_bytes(content)
    err_console.print(f"已写入 {target}")


def _report(report: ImportReport) -> None:
    prefix = "检查结果（未改动）" if report.dry_run else "已导入"
    console.print(
        f"{prefix}：{report.rows} 行，新增 {report.created}，"
        f"更新 {report.updated}，未变 {report.unchanged}"
    )
    for note in report.notes:
        console.print(f"  {note}")


def _print_rejects(exc: ImportRejected) -> None:
    table = Table("行", "列", "原因", title="被拒绝的行（未做任何改动）")
    for problem in exc.fields:
        where, _, column = problem.field.removeprefix("line ").partition(".")
        table.add_row(where, column, problem.reason)
    err_console.print(table)


@app.command("list")
def list_sets() -> None:
    """List code sets and the external systems with their tables."""
    with unit_of_work() as session:
        sets = exchange_service.list_code_sets(session)
        systems = exchange_service.list_systems(session)
    table = Table("代码集", "名称", "代码数")
    for found in sets:
        table.add_row(found.key, found.name, str(found.size))
    console.print(table)
    tables = Table("外部系统", "名称", "代码表（代码集：字段，已对照代码数）")
    for system in systems:
        listed = ", ".join(
            f"{t.code_set}: {t.external_field} ({t.mappings})" for t in system.tables
        )
        tables.add_row(system.key, system.name, listed)
    console.print(tables)


@app.command("show")
def show(code_set: Annotated[str, typer.Argument(help="Code set key, e.g. gender.")]) -> None:
    """Show the codes of a set and each system's code for them."""
    with unit_of_work() as session:
        found = exchange_service.get_code_set(session, key=code_set)
        columns: list[tuple[str, dict[str, str]]] = []
        for system in exchange_service.list_systems(session):
            table = next((t for t in system.tables if t.code_set == code_set), None)
            if table is None:
                continue
            mapped = exchange_service.mappings(session, system=system.key, code_set=code_set)
            columns.append(
                (f"{system.name} {table.external_field}", {m.code: m.external_code for m in mapped})
            )
    listing = Table(
        "代码", "名称", *(title for title, _ in columns), title=f"{found.key} {found.name}"
    )
    for code in found.codes:
        listing.add_row(code.code, code.name, *(codes.get(code.code, "—") for _, codes in columns))
    console.print(listing)


@app.command("translate")
def translate(
    system: Annotated[str, typer.Argument(help="External system, e.g. province.")],
    code_set: Annotated[str, typer.Argument(help="Code set, e.g. gender.")],
    value: Annotated[str, typer.Argument(help="The code to translate.")],
    inward: Annotated[
        bool, typer.Option("--in", help="VALUE is the system's code; print ours.")
    ] = False,
) -> None:
    """Print the system's code for ours (or ours for the system's, with --in)."""
    with unit_of_work() as session:
        result = exchange_service.translate(
            session,
            system=system,
            code_set=code_set,
            value=value,
            direction="in" if inward else "out",
        )
    console.print(result, highlight=False)


@app.command("import-sets")
def import_sets(file: InFile, check: Check = False) -> None:
    """Import codes from CSV (code_set, code, name[, code_set_name]): all rows or none."""
    with unit_of_work(purpose="import code sets") as session:
        try:
            report = exchange_service.import_code_sets(
                session, data=file.read_bytes(), dry_run=check
            )
        except ImportRejected as exc:
            _print_rejects(exc)
            raise
    _report(report)


@app.command("import-mappings")
def import_mappings(file: InFile, check: Check = False) -> None:
    """Import mappings from CSV (system, code_set, external_field, code, external_code
    [, system_name]): all rows or none."""
    with unit_of_work(purpose="import mappings") as session:
        try:
            report = exchange_service.import_mappings(
                session, data=file.read_bytes(), dry_run=check
            )
        except ImportRejected as exc:
            _print_rejects(exc)
            raise
    _report(report)


@app.command("export-sets")
def export_sets(file: OutFile = None) -> None:
    """Write every code as CSV (UTF-8 with BOM, as Excel opens it)."""
    with unit_of_work() as session:
        content = exchange_service.export_code_sets(session)
    _write(content, file)


@app.command("export-mappings")
def export_mappings(
    file: OutFile = None,
    system: Annotated[str | None, typer.Option(help="Only this external system.")] = None,
) -> None:
    """Write mappings as CSV (UTF-8 with BOM, as Excel opens it)."""
    with unit_of_work() as session:
        content = exchange_service.export_mappings(session, system=system)
    _write(content, file)


@app.command("load-defaults")
def load_defaults() -> None:
    """Add the code sets and tables shipped with sscard that are missing (keeps local edits)."""
    with unit_of_work(purpose="load default code sets") as session:
        report = exchange_service.load_defaults(session)
    console.print(
        f"代码集：新增代码 {report.code_sets.created} 个；"
        f"对照：新增 {report.mappings.created} 条；保留本地修改 {report.kept} 条"
    )
    for note in [*report.code_sets.notes, *report.mappings.notes]:
        console.print(f"  {note}")
