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
            f"claimed {report.claimed}: delivered {report.delivered}, retried {report.retried}, "
            f"dead {report.dead}, lost {report.lost}"
        )
        done = housekeeping()
        console.print("housekeeping: " + ", ".join(f"{k} {v}" for k, v in done.items()))
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
        "id",
        "destination",
        "status",
        "attempts",
        f"next attempt ({BEIJING})",
        f"created ({BEIJING})",
        "last error",
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
    console.print(", ".join(f"{name} {count}" for name, count in counts.items()))


@outbox_app.command("show")
def show(message_id: Annotated[int, typer.Argument(help="Message id.")]) -> None:
    """Show one message; ID numbers and phone numbers in the payload are masked."""
    with unit_of_work() as session:
        m = outbox.get_message(session, message_id)
    fields = {
        "id": m.id,
        "destination": m.destination,
        "key": m.idempotency_key or "",
        "status": m.status,
        "attempts": f"{m.attempts}/{m.max_attempts}",
        f"next attempt ({BEIJING})": _when(m.next_attempt_at),
        f"lease until ({BEIJING})": _when(m.lease_until),
        "claimed by": m.lease_owner or "",
        f"created ({BEIJING})": _when(m.created_at),
        f"delivered ({BEIJING})": _when(m.delivered_at),
        "last error": m.last_error or "",
    }
    for name, value in fields.items():
        console.print(f"{name:>20}: {value}", markup=False, highlight=False)
    payload = json.dumps(m.payload, ensure_ascii=False, indent=2, sort_keys=True)
    console.print(f"{'payload':>20}:\n{mask_text(payload)}", markup=False, highlight=False)


@outbox_app.command("retry")
def retry(message_id: Annotated[int, typer.Argument(help="Id of a dead message.")]) -> None:
    """Give a dead message a fresh set of attempts, due now."""
    with unit_of_work(purpose="outbox retry") as session:
        m = outbox.retry_dead(session, message_id)
        destination = m.destination
    console.print(
        f"message {message_id} to {destination} is pending again, due now",
        markup=False,
        highlight=False,
    )
