"""``sscard worker`` delivers the outbox; ``sscard outbox list|show|retry`` looks after it."""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import FrameType
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sscard import bootstrap
from sscard.cli.common import BEIJING, beijing, console, status_filter, unit_of_work
from sscard.kit import guard, outbox
from sscard.kit.masking import mask_text
from sscard.kit.outbox import DeliveryReport, MessageStatus
from sscard.settings import get_settings

logger = logging.getLogger(__name__)

outbox_app = typer.Typer(
    help="Messages waiting for, or given up on, delivery to external systems.",
    no_args_is_help=True,
)


def worker(
    once: Annotated[
        bool,
        typer.Option("--once", help="Deliver what is due now, do the housekeeping, then exit."),
    ] = False,
    poll: Annotated[
        float, typer.Option("--poll", min=0.05, help="Seconds to rest when nothing is due.")
    ] = 1.0,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Messages claimed per round.")] = 100,
) -> None:
    """Deliver due outbox messages until stopped (SIGINT or SIGTERM stop it cleanly).

    Once an hour the worker also does the housekeeping: delivered messages and expired
    replay guards are purged, and every chore the components registered runs (temporary
    card losses lapse, for one).
    """
    bootstrap.wire()
    _configure_logging()
    if once:
        report = _drain(limit)
        console.print(
            f"领取 {report.claimed} 条：送达 {report.delivered}，待重试 {report.retried}，"
            f"失败 {report.dead}，丢失 {report.lost}"
        )
        done = housekeeping()
        console.print("例行维护：" + "，".join(f"{k} {v}" for k, v in done.items()))
        return
    stop = threading.Event()
    with _stop_on_signals(stop):
        outbox.run_worker(stop, poll, limit=limit, housekeeping=housekeeping)


def _drain(limit: int) -> DeliveryReport:
    """Rounds of delivery until a round finds fewer than ``limit`` due messages."""
    total = DeliveryReport()
    while True:
        report = outbox.deliver_due(limit=limit)
        for name in ("claimed", "delivered", "retried", "dead", "lost", "released"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        if report.claimed < limit:
            return total


def housekeeping() -> dict[str, int]:
    """Purge what is no longer needed and run the registered chores, each in its own
    transaction (one failing does not hold the others back); what each touched."""
    done: dict[str, int] = {}
    with unit_of_work(purpose="outbox housekeeping") as session:
        done["delivered messages purged"] = outbox.purge_delivered(session)
        done["expired guards purged"] = guard.purge_expired(session)
    for name, job in outbox.housekeeping_jobs().items():
        try:
            with unit_of_work(purpose=name) as session:
                done[name] = job(session)
        except Exception as exc:
            logger.error("housekeeping %s failed: %s", name, mask_text(str(exc))[:300])
            done[name] = -1
    logger.info("housekeeping %s", " ".join(f"{k.replace(' ', '_')}={v}" for k, v in done.items()))
    return done


def _configure_logging() -> None:
    logging.basicConfig(
        level=get_settings().log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set ``stop`` on SIGINT/SIGTERM: the message in hand finishes, the rest is released."""

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("worker stopping (%s)", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _when(value: datetime | None) -> str:
    return beijing(value)


@outbox_app.command("list")
def list_messages(
    status: Annotated[
        str, typer.Option(help="pending, in_flight, delivered, dead or all (the default).")
    ] = "all",
    destination: Annotated[str | None, typer.Option(help="Only this destination.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 50,
) -> None:
    """Show the newest outbox messages and how many there are in each state."""
    with unit_of_work() as session:
        wanted = status_filter(status, [s.value for s in MessageStatus])
        rows = outbox.list_messages(
            session,
            status=None if wanted is None else MessageStatus(wanted),
            destination=destination,
            limit=limit,
        )
        counts = outbox.counts_by_status(session)
    table = Table(
        "编号",
        "目的地",
        "状态",
        "尝试次数",
        f"下次尝试（{BEIJING}）",
        f"创建时间（{BEIJING}）",
        "最近错误",
    )
    for m in rows:
        table.add_row(
            str(m.id),
            escape(m.destination),
            m.status,
            f"{m.attempts}/{m.max_attempts}",
            _when(m.next_attempt_at) if m.status == MessageStatus.pending else "",
            _when(m.created_at),
            escape(m.last_error or ""),
        )
    console.print(table)
    console.print("各状态条数：" + "，".join(f"{name} {count}" for name, count in counts.items()))


@outbox_app.command("show")
def show(message_id: Annotated[int, typer.Argument(help="Message id.")]) -> None:
    """Show one message; ID numbers and phone numbers in the payload are masked."""
    with unit_of_work() as session:
        m = outbox.get_message(session, message_id)
    fields = {
        "编号": m.id,
        "目的地": m.destination,
        "幂等键": m.idempotency_key or "",
        "状态": m.status,
        "尝试次数": f"{m.attempts}/{m.max_attempts}",
        f"下次尝试（{BEIJING}）": _when(m.next_attempt_at),
        f"租约到期（{BEIJING}）": _when(m.lease_until),
        "领取进程": m.lease_owner or "",
        f"创建时间（{BEIJING}）": _when(m.created_at),
        f"送达时间（{BEIJING}）": _when(m.delivered_at),
        "最近错误": m.last_error or "",
    }
    for name, value in fields.items():
        console.print(f"{name:>20}: {value}", markup=False, highlight=False)
    payload = json.dumps(m.payload, ensure_ascii=False, indent=2, sort_keys=True)
    console.print(f"{'内容':>20}:\n{mask_text(payload)}", markup=False, highlight=False)


@outbox_app.command("retry")
def retry(message_id: Annotated[int, typer.Argument(help="Id of a dead message.")]) -> None:
    """Give a dead message a fresh set of attempts, due now."""
    with unit_of_work(purpose="outbox retry") as session:
        m = outbox.retry_dead(session, message_id)
        destination = m.destination
    console.print(
        f"发往 {destination} 的消息 {message_id} 已重新排队，立即投递",
        markup=False,
        highlight=False,
    )
