"""The ``sscard`` command: serve, db, demo, keys, operators, audit, worker, outbox, payments."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Annotated

import typer

from sscard import bootstrap, db
from sscard.cli import audit as audit_cli
from sscard.cli import batch as batch_cli
from sscard.cli import cards as cards_cli
from sscard.cli import codes as codes_cli
from sscard.cli import ecard_clients as ecard_clients_cli
from sscard.cli import keys as keys_cli
from sscard.cli import ledger as ledger_cli
from sscard.cli import operators as operators_cli
from sscard.cli import payments as payments_cli
from sscard.cli import registry as registry_cli
from sscard.cli import worker as worker_cli
from sscard.cli.common import cli_actor, console, err_console, unit_of_work
from sscard.db import migrate
from sscard.errors import SSCardError
from sscard.kit import context, logs
from sscard.settings import get_settings

app = typer.Typer(
    help="sscard: 社会保障卡与居民服务一卡通平台 (social security card platform).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
demo_app = typer.Typer(
    help="Demo data for trying the platform (never in production).", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(keys_cli.app, name="keys")
app.add_typer(operators_cli.app, name="operators")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(registry_cli.app, name="registry")
app.add_typer(cards_cli.app, name="cards")
app.add_typer(batch_cli.app, name="batch")
app.add_typer(batch_cli.mapping_app, name="mapping")
app.add_typer(batch_cli.issuance_app, name="issuance")
app.add_typer(codes_cli.app, name="codes")
app.add_typer(ecard_clients_cli.app, name="ecard-clients")
app.add_typer(payments_cli.app, name="payments")
app.add_typer(worker_cli.outbox_app, name="outbox")
app.add_typer(ledger_cli.app, name="ledger")
app.command("worker")(worker_cli.worker)


WORKER_HEALTHCHECK_SECONDS = 60
"""How long the supervisor of ``--workers N`` waits for a worker to answer its ping before it
kills it: a worker process imports the whole application first, which on a busy machine takes
longer than uvicorn's 5 s default (every worker was then killed and restarted in a loop)."""


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
) -> None:
    """Start the platform (HTTP API, pages, health and metrics)."""
    import uvicorn

    settings = get_settings()
    if settings.is_production:
        problems = bootstrap.production_problems()
        if problems:
            raise SSCardError("生产模式拒绝启动：" + "；".join(problems))
    if not migrate.is_up_to_date():
        raise SSCardError("数据库结构不是最新：请先运行 `sscard db upgrade`")
    if workers > 1:
        metrics_dir = settings.data_dir / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    db.get_engine().dispose()
    uvicorn.run(
        "sscard.app.factory:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        reload=reload,
        log_level=settings.log_level.lower(),
        log_config=logs.config(settings.log_level),
        proxy_headers=True,
        server_header=False,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply migrations up to REVISION (default: newest)."""
    bootstrap.import_models()
    migrate.upgrade(revision)
    console.print(f"数据库版本：{', '.join(migrate.current()) or 'base（空库）'}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1.")],
) -> None:
    """Revert migrations down to REVISION."""
    bootstrap.import_models()
    migrate.downgrade(revision)
    console.print(f"数据库版本：{', '.join(migrate.current()) or 'base（空库）'}")


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and whether it is the newest."""
    current = migrate.current()
    state = "已是最新" if migrate.is_up_to_date() else "需要升级：请运行 `sscard db upgrade`"
    console.print(f"数据库版本：{', '.join(current) or 'base（空库）'}（{state}）")


@demo_app.command("seed")
def demo_seed(
    persons: Annotated[
        int, typer.Option(min=0, max=10_000_000, help="Persons in the demo registry.")
    ] = 2000,
    region: Annotated[
        str | None, typer.Option(help="City code (GB/T 2260); default: the platform's region.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same data.")] = 1,
    photos: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of persons given a generated photo.")
    ] = 0.5,
) -> None:
    """Create demo institutions, channels, operators, a registry, cards and e-cards (idempotent)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from sscard import demo, demo_cards

    settings = get_settings()
    if settings.is_production:
        raise SSCardError("生产模式下不创建演示数据")
    with unit_of_work(purpose="demo seed") as session:
        report = demo.seed(session)
    for line in report:
        console.print(line)
    plan = demo.RegistryPlan(
        persons=persons, region=region or settings.region_code, seed=seed, photo_share=photos
    )
    columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with (
        context.acting(cli_actor(), purpose="demo seed"),
        Progress(
            *columns, console=err_console, transient=True, disable=not err_console.is_terminal
        ) as bar,
    ):
        task = bar.add_task("人员", total=persons)
        found = demo.seed_registry(plan, actor=cli_actor(), progress=lambda n: bar.advance(task, n))
    for line in found.lines():
        console.print(line)
    if persons and photos > 0:
        with context.acting(cli_actor(), purpose="demo seed"):
            cards = demo_cards.seed_cards(
                seed=seed,
                region=plan.region,
                persons=persons,
                actor=cli_actor(),
                photo_share=photos,
            )
        for line in cards.lines():
            console.print(line)


def main() -> None:
    """Entry point: one clear line and a non-zero exit for any platform error."""
    try:
        app()
    except SSCardError as exc:
        err_console.print(f"[red]错误：[/red]{exc.message}", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
