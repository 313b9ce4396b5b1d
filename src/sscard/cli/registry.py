"""``sscard registry``: bulk import, persons, employers, communities and photos."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from sscard import bootstrap
from sscard.cli.common import (
    BEIJING,
    beijing,
    cli_actor,
    console,
    err_console,
    status_filter,
    unit_of_work,
)
from sscard.errors import SSCardError
from sscard.registry.imports import job as import_job
from sscard.registry.imports import service as imports_service
from sscard.registry.imports.schemas import ImportJobOut
from sscard.registry.persons import service as persons_service
from sscard.registry.persons.schemas import PersonOut, PersonSummary
from sscard.registry.photos import service as photos_service
from sscard.registry.units import service as units_service
from sscard.registry.units.schemas import CommunityCreate, EmployerCreate

app = typer.Typer(
    help="Cardholder registry (持卡人基础信息库): bulk import, persons, employers, communities.",
    no_args_is_help=True,
)
person_app = typer.Typer(help="Persons: shown masked unless revealed.", no_args_is_help=True)
employer_app = typer.Typer(help="Employers (单位).", no_args_is_help=True)
community_app = typer.Typer(help="Communities (社区/村).", no_args_is_help=True)
photo_app = typer.Typer(help="Card photos.", no_args_is_help=True)
app.add_typer(person_app, name="person")
app.add_typer(employer_app, name="employer")
app.add_typer(community_app, name="community")
app.add_typer(photo_app, name="photo")

IdNumber = Annotated[str, typer.Argument(help="ID number (社会保障号码).")]
M = TypeVar("M", bound=BaseModel)


def _validated(model: type[M], values: dict[str, Any]) -> M:
    """The model, or one SSCardError line naming each bad option."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise SSCardError(reasons) from exc


# ---- import ---------------------------------------------------------------------------


class _RateColumn(ProgressColumn):
    """Rows per second over the run so far."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = (task.completed - task.fields.get("base", 0)) / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:,.0f} rows/s", style="progress.data.speed")


def _summary(job: ImportJobOut) -> str:
    return (
        f"导入任务 {job.id}（{job.status}）：共 {job.rows_total} 行，新增 {job.rows_created}，"
        f"更新 {job.rows_updated}，未变 {job.rows_unchanged}，拒绝 {job.rows_rejected}"
    )


def _run_with_progress(job_id: int, options: import_job.RunOptions) -> ImportJobOut:
    columns = (
        TextColumn("[bold]导入[/bold] 任务 {task.fields[job]}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    quiet = not err_console.is_terminal
    with Progress(*columns, console=err_console, transient=True, disable=quiet) as bar:
        task = bar.add_task("import", total=None, job=job_id, base=0)

        def show(progress: import_job.Progress) -> None:
            total = max(progress.expected, progress.done)
            if progress.resumed_from and bar.tasks[0].total is None:
                # a resumed job: the rows done before this run are not this run's speed
                bar.reset(task, total=total, completed=progress.resumed_from)
            bar.update(task, total=total, completed=progress.done, base=progress.resumed_from)

        options = import_job.RunOptions(chunk=options.chunk, workers=options.workers, progress=show)
        return import_job.run(job_id, actor=cli_actor(), options=options)


def _rejects_line(job: ImportJobOut) -> None:
    if job.has_rejects:
        with unit_of_work() as session:
            path = imports_service.rejects_of(session, job_id=job.id)
        console.print(f"拒绝明细：{path}")


@app.command("import")
def import_file(
    file: Annotated[
        Path | None,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="CSV (UTF-8 or GB18030) or XLSX."
        ),
    ] = None,
    employer: Annotated[
        str | None,
        typer.Option(help="Credit code of the employer every row belongs to."),
    ] = None,
    chunk: Annotated[int, typer.Option(min=1, max=100_000, help="Rows per commit.")] = (
        import_job.DEFAULT_CHUNK
    ),
    rejects: Annotated[
        Path | None,
        typer.Option(dir_okay=False, help="Where to write rejected rows (CSV)."),
    ] = None,
    resume: Annotated[
        int | None, typer.Option(metavar="JOB", help="Resume an interrupted job by its id.")
    ] = None,
    again: Annotated[
        bool, typer.Option("--again", help="Import a file that was imported completely before.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(min=0, max=64, help="Worker processes (default: by file size and cores)."),
    ] = None,
) -> None:
    """Import persons from FILE, or resume a job; headers in English or 人社 indicator names."""
    bootstrap.wire()
    options = import_job.RunOptions(chunk=chunk, workers=workers)
    if resume is not None:
        job = _run_with_progress(resume, options)
    elif file is None:
        raise SSCardError("请给出要导入的文件，或用 --resume 任务号 续做")
    else:
        with unit_of_work(purpose="bulk import") as session:
            opened = imports_service.open_job(
                session,
                file,
                source="cli",
                actor=cli_actor(),
                employer_credit_code=employer,
                reject_path=rejects.resolve() if rejects else None,
                again=again,
            )
        if not opened.runnable:
            console.print(
                f"该文件已导入过（任务 {opened.job.id}，"
                f"{beijing(opened.job.finished_at, seconds=False)} {BEIJING}）："
                "无需再导入；如需重新导入请加 --again"
            )
            return
        job = _run_with_progress(opened.job.id, options)
    console.print(_summary(job))
    _rejects_line(job)


@app.command("jobs")
def jobs(
    status: Annotated[
        str, typer.Option(help="pending, running, completed, failed or all (the default).")
    ] = "all",
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many, newest first.")] = 20,
) -> None:
    """List recent import jobs."""
    wanted = status_filter(status, imports_service.STATUSES)
    with unit_of_work() as session:
        found = [
            imports_service.job_out(j)
            for j in imports_service.jobs_in_scope(
                session, actor=cli_actor(), status=wanted, limit=limit
            )
        ]
    table = Table(
        "任务", "状态", "文件", "新增", "更新", "未变", "拒绝", "下一行", title="导入任务"
    )
    for job in found:
        table.add_row(
            str(job.id),
            job.status,
            job.file_name,
            str(job.rows_created),
            str(job.rows_updated),
            str(job.rows_unchanged),
            str(job.rows_rejected),
            str(job.next_line),
        )
    console.print(table)


# ---- persons --------------------------------------------------------------------------


def _print_person(view: PersonOut) -> None:
    table = Table(show_header=False, box=None)
    rows: list[tuple[str, str | None]] = [
        ("社会保障号码", view.id_number),
        ("姓名", view.name),
        ("证件类型", view.document_type.name),
        ("性别", view.gender.name),
        ("民族", view.ethnicity.name),
        ("出生日期", view.birth_date.isoformat()),
        ("国籍", view.nationality),
        ("手机号码", view.phone),
        ("地址", view.address),
        ("户籍地", view.household_region.name),
        ("居住地", view.residence_region.name),
        ("单位", view.employer.name if view.employer else None),
        ("社区", view.community.name if view.community else None),
        ("状态", view.status.name),
        ("死亡日期", view.death_date.isoformat() if view.death_date else None),
        ("照片", "有" if view.has_photo else "无"),
    ]
    rows += [
        (f"参保 {e.insurance_type.name}", f"{e.status.name} {e.start_date}~{e.end_date or ''}")
        for e in view.enrolments
    ]
    for label, value in rows:
        table.add_row(label, value or "")
    console.print(table)
    if view.masked:
        console.print("（已脱敏；加 --reveal --purpose 说明 可查看完整信息，查看会记入审计）")


@person_app.command("show")
def person_show(
    id_number: IdNumber,
    reveal: Annotated[bool, typer.Option("--reveal", help="Show unmasked (audited).")] = False,
    purpose: Annotated[
        str | None, typer.Option(help="Why the full record is needed (required with --reveal).")
    ] = None,
) -> None:
    """Show a person, masked unless --reveal with a --purpose."""
    if reveal and not (purpose and purpose.strip()):
        raise SSCardError("--reveal 需要 --purpose：请说明查看完整信息的原因")
    with unit_of_work(purpose=purpose) as session:
        actor = cli_actor()
        if reveal and purpose:
            view = persons_service.reveal_person(
                session, id_number=id_number, purpose=purpose.strip(), actor=actor
            )
        else:
            view = persons_service.person_out(
                session, persons_service.get_person(session, id_number=id_number, actor=actor)
            )
    _print_person(view)


def _summaries(items: list[PersonSummary]) -> Table:
    table = Table("社会保障号码", "姓名", "性别", "出生日期", "居住地", "单位", "状态")
    for p in items:
        table.add_row(
            p.id_number,
            p.name,
            p.gender.name or "",
            p.birth_date.isoformat(),
            p.residence_region.name or p.residence_region.code,
            p.employer.name if p.employer else "",
            p.status.name or p.status.code,
        )
    return table


@person_app.command("search")
def person_search(
    name: Annotated[str | None, typer.Option(help="Exact name.")] = None,
    birth_date: Annotated[
        str | None, typer.Option("--birth-date", help="YYYY-MM-DD (with --name).")
    ] = None,
    employer: Annotated[str | None, typer.Option(help="Employer credit code.")] = None,
    community: Annotated[str | None, typer.Option(help="Community code (12 digits).")] = None,
    phone: Annotated[str | None, typer.Option(help="Mobile number.")] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    page_size: Annotated[int, typer.Option(min=1, max=200)] = 20,
) -> None:
    """Search persons by exact name (and birth date), employer, community or phone; masked."""
    if not any((name, employer, community, phone)):
        raise SSCardError("请至少给出 --name、--employer、--community、--phone 之一")
    born = _date(birth_date, "--birth-date") if birth_date else None
    with unit_of_work() as session:
        employer_id = (
            units_service.get_employer_by_credit_code(session, credit_code=employer).id
            if employer
            else None
        )
        found = persons_service.search_persons(
            session,
            actor=cli_actor(),
            name=name,
            birth_date=born,
            employer_id=employer_id,
            community_code=community,
            phone=phone,
            page=page,
            page_size=page_size,
        )
    console.print(_summaries(found.items))
    console.print(f"共找到 {found.total} 人（第 {found.page} 页）")


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise SSCardError(f"{option}: 日期应写作 YYYY-MM-DD") from exc


@person_app.command("deceased")
def person_deceased(
    id_number: IdNumber,
    death_date: Annotated[str, typer.Option("--date", help="Date of death, YYYY-MM-DD.")],
    source: Annotated[str, typer.Option(help="Where the fact comes from.")] = "counter",
) -> None:
    """Record a person's death (other components hear of it)."""
    died = _date(death_date, "--date")
    with unit_of_work(purpose="record death") as session:
        person = persons_service.mark_deceased(
            session, id_number=id_number, death_date=died, source=source, actor=cli_actor()
        )
        masked = person.id_number_masked
    console.print(f"已登记 {masked} 于 {died} 死亡")


# ---- employers, communities, photos ---------------------------------------------------


@employer_app.command("add")
def employer_add(
    credit_code: Annotated[str, typer.Option("--credit-code", help="Unified social credit code.")],
    name: Annotated[str, typer.Option(help="Registered name.")],
    region: Annotated[str, typer.Option(help="County-level region code (GB/T 2260).")],
    address: Annotated[str, typer.Option(help="Address.")] = "",
    contact_name: Annotated[str, typer.Option(help="Contact person.")] = "",
    contact_phone: Annotated[str, typer.Option(help="Contact phone.")] = "",
) -> None:
    """Register an employer by its unified social credit code."""
    data = _validated(
        EmployerCreate,
        {
            "credit_code": credit_code,
            "name": name,
            "region_code": region,
            "address": address,
            "contact_name": contact_name,
            "contact_phone": contact_phone,
        },
    )
    with unit_of_work(purpose="register employer") as session:
        employer = units_service.create_employer(session, data=data)
        console.print(f"已登记单位 {employer.credit_code}（编号 {employer.id}）")


@employer_app.command("list")
def employer_list(
    name: Annotated[str | None, typer.Option(help="Part of the name.")] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    page_size: Annotated[int, typer.Option(min=1, max=200)] = 50,
) -> None:
    """List employers."""
    with unit_of_work() as session:
        found, total = units_service.list_employers(
            session, actor=cli_actor(), name=name, page=page, page_size=page_size
        )
        views = [units_service.employer_out(session, e) for e in found]
    table = Table("编号", "统一社会信用代码", "名称", "所在地", "人数", "状态")
    for e in views:
        table.add_row(
            str(e.id),
            e.credit_code,
            e.name,
            e.region.name or e.region.code,
            str(e.persons),
            e.status,
        )
    console.print(table)
    console.print(f"共 {total} 个单位")


@community_app.command("add")
def community_add(
    code: Annotated[str, typer.Option(help="12 digits: township code (9) and number (3).")],
    name: Annotated[str, typer.Option(help="Name of the community or village.")],
) -> None:
    """Register a community under a current township or street."""
    data = _validated(CommunityCreate, {"code": code, "name": name})
    with unit_of_work(purpose="register community") as session:
        community = units_service.create_community(session, data=data)
        console.print(f"已登记社区 {community.code}")


@community_app.command("list")
def community_list(
    township: Annotated[str | None, typer.Option(help="Only this township (9 digits).")] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    page_size: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """List communities."""
    with unit_of_work() as session:
        found, total = units_service.list_communities(
            session, actor=cli_actor(), township_code=township, page=page, page_size=page_size
        )
        views = [units_service.community_out(session, c) for c in found]
    table = Table("代码", "名称", "街道（乡镇）", "人数")
    for c in views:
        table.add_row(c.code, c.name, c.township.name or c.township.code, str(c.persons))
    console.print(table)
    console.print(f"共 {total} 个社区")


@photo_app.command("set")
def photo_set(
    id_number: IdNumber,
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="JPEG file.")
    ],
) -> None:
    """Upload or replace a person's card photo (checked, EXIF stripped, encrypted)."""
    data = file.read_bytes()
    with unit_of_work(purpose="set photo") as session:
        info = photos_service.put_photo(session, id_number=id_number, data=data, actor=cli_actor())
    console.print(f"照片已保存：{info.width}×{info.height}，{info.size_bytes} 字节")
