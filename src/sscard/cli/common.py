"""What every command shares: the console, the command's actor and unit of work."""

from __future__ import annotations

import getpass
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from sscard import bootstrap, db
from sscard.kit import context
from sscard.kit.context import Actor, ActorKind

console = Console()
err_console = Console(stderr=True)

BEIJING = "北京时间"
"""The label every printed time carries: times are stored in UTC and shown in Beijing time."""


def status_filter(value: str, allowed: Iterable[str]) -> str | None:
    """A ``--status`` option's value: None for ``all`` (no filter), the value when it is one of
    ``allowed``, else a usage error that lists what is accepted."""
    choices = list(allowed)
    wanted = value.strip().lower()
    if wanted == "all":
        return None
    if wanted not in choices:
        accepted = "、".join([*choices, "all"])
        raise typer.BadParameter(f"未知状态 {value!r}，可选：{accepted}", param_hint="--status")
    return wanted


def beijing(value: datetime | None, *, seconds: bool = True) -> str:
    """A stored (UTC) time in Beijing time, as the tables headed "…（北京时间）" print it."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(db.CHINA_TZ).strftime(
        "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    )


def cli_actor() -> Actor:
    user = getpass.getuser()
    return Actor(
        kind=ActorKind.system,
        id=f"cli:{user}"[:64],
        name=f"命令行 {user}",
        permissions=frozenset({"*"}),
    )


@contextmanager
def unit_of_work(purpose: str | None = None) -> Iterator[Session]:
    """One command, one transaction, acting as the operating-system user."""
    bootstrap.wire()
    with context.acting(cli_actor(), purpose=purpose), db.transaction() as session:
        yield session
