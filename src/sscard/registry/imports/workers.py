"""The import's workers: each reads, checks and seals a batch of rows, without the database.

Workers are separate processes (spawned, so that a threaded server can start them) that
load the settings and keys themselves; small files are read in the importing process
(:class:`Preparer` with no workers). Rows of new persons are sealed by the workers under
fresh ids, ready to be inserted as they are. At most two batches per worker are in flight,
so memory stays bounded.

A worker must not outlive the process that started it: one killed outright (kill -9, the
out-of-memory killer) cannot shut its pool down. Each worker therefore runs a watchdog
thread that checks, every :data:`WATCHDOG_SECONDS`, whether its parent is still the
process that started it, and ends the worker at once (``os._exit``) when it is not.
(``prctl(PR_SET_PDEATHSIG)`` was not used: it fires when the *thread* that spawned the
worker ends, and the pool may start workers from a request's thread; it is also Linux
only.)
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any, NamedTuple

from sscard import db
from sscard.crypto import fields
from sscard.db import new_id, utcnow
from sscard.errors import SSCardError
from sscard.kit.masking import mask_id_number
from sscard.registry.imports import rows, tabular
from sscard.registry.imports.rows import RowRules
from sscard.registry.persons import sealing
from sscard.registry.persons.repository import ENROLMENT_COLUMNS, PERSON_COLUMNS
from sscard.registry.records import PersonRecord
from sscard.settings import get_settings

Batch = list[tuple[int, list[tabular.Cell]]]
_IN_COLUMN_ORDER = itemgetter(*PERSON_COLUMNS)


class Accepted(NamedTuple):
    """A good row, sealed under a fresh id (used as is when the person is new).

    Results are named tuples rather than dataclasses: they cross from the workers by
    pickle, where a tuple is the cheaper thing to send.
    """

    line: int
    id_key: bytes
    """Blind index of the ID number: the person's key, and the duplicate check's."""
    digest: bytes
    community_code: str | None
    row: tuple[Any, ...]
    enrolments: tuple[tuple[Any, ...], ...]


class Rejected(NamedTuple):
    """A bad row: its line, the ID number masked, and every reason."""

    line: int
    id_key: bytes | None
    id_number: str
    reasons: str


Result = Accepted | Rejected


@dataclass(frozen=True, slots=True)
class Context:
    """What every worker checks rows against: the import's rules and its employer directory."""

    rules: RowRules
    employers: dict[str, int]


WATCHDOG_SECONDS = 0.5
_worker: Context | None = None
_worker_keys: fields.FieldKeys | None = None


def id_index(id_number: str, keys: fields.FieldKeys) -> bytes | None:
    """The blind index of an ID number (the duplicate check's key), None when empty."""
    if not id_number:
        return None
    return keys.blind_index(id_number, purpose=sealing.ID_PURPOSE)


def _seal(line: int, record: PersonRecord, now: datetime, keys: fields.FieldKeys) -> Accepted:
    """The row of a new person under a fresh id (the keys are loaded: no database needed)."""
    person_id = new_id()
    row = sealing.person_row(record, person_id=person_id, keys=keys, now=now)
    enrolments = tuple(
        tuple(
            {
                "person_id": person_id,
                "insurance_type": e.insurance_type,
                "status": e.status,
                "start_date": e.start_date,
                "end_date": e.end_date,
                "updated_at": now,
            }[c]
            for c in ENROLMENT_COLUMNS
        )
        for e in record.enrolments
    )
    return Accepted(
        line=line,
        id_key=row["id_number_index"],
        digest=row["content_digest"],
        community_code=record.community_code,
        row=_IN_COLUMN_ORDER(row),
        enrolments=enrolments,
    )


def prepare(batch: Batch, ctx: Context, keys: fields.FieldKeys) -> list[Result]:
    """Read, check and seal a batch of rows (in a worker, or here for small files)."""
    now = utcnow()
    results: list[Result] = []
    for line, cells in batch:
        parsed = rows.parse_row(cells, ctx.rules, ctx.employers)
        if parsed.problems:
            reasons = rows.reasons(parsed.problems, ctx.rules.header.titles)
            masked = mask_id_number(parsed.id_number)
            results.append(Rejected(line, id_index(parsed.id_number, keys), masked, reasons))
        else:
            results.append(_seal(line, parsed.record, now, keys))
    return results


def _watch_parent(parent: int) -> None:
    """End this worker as soon as ``parent`` is no longer its parent (it died)."""
    while os.getppid() == parent:
        time.sleep(WATCHDOG_SECONDS)
    os._exit(1)


def start_watchdog(parent: int) -> None:
    """Run :func:`_watch_parent` in a daemon thread of this process."""
    threading.Thread(
        target=_watch_parent, args=(parent,), name="import-watchdog", daemon=True
    ).start()


def _start_worker(parent: int, database_url: str, ctx: Context) -> None:
    """Worker start: a watchdog on the parent, own engine, the keys loaded in a short
    transaction of its own, the import's rules; Ctrl-C is for the parent."""
    global _worker, _worker_keys
    start_watchdog(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    db.configure(database_url)
    with db.transaction() as session:
        _worker_keys = sealing.keys(session)
    _worker = ctx


def _prepare_in_worker(batch: Batch) -> list[Result]:
    if _worker is None or _worker_keys is None:  # pragma: no cover - the initializer runs first
        raise RuntimeError("import worker not started")
    return prepare(batch, _worker, _worker_keys)


class Preparer:
    """Prepares batches in order, in worker processes or in this one, a bounded few ahead."""

    def __init__(self, ctx: Context, workers: int, keys: fields.FieldKeys) -> None:
        self.ctx = ctx
        self.workers = workers
        self.keys = keys
        """The keys for batches prepared in this process (workers load their own)."""
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Preparer:
        if self.workers > 0:
            self.pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(os.getpid(), get_settings().database_url, self.ctx),
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def map(self, batches: Iterable[Batch]) -> Iterator[tuple[Batch, list[Result]]]:
        if self.pool is None:
            for batch in batches:
                yield batch, prepare(batch, self.ctx, self.keys)
            return
        pending: deque[tuple[Batch, Future[list[Result]]]] = deque()
        for batch in batches:
            pending.append((batch, self.pool.submit(_prepare_in_worker, batch)))
            if len(pending) >= 2 * self.workers:
                done, future = pending.popleft()
                yield done, _result(future)
        while pending:
            done, future = pending.popleft()
            yield done, _result(future)


def _result(future: Future[list[Result]]) -> list[Result]:
    try:
        return future.result()
    except BrokenProcessPool as exc:
        raise SSCardError(f"导入工作进程意外退出（{exc}），请查看日志后重试") from exc
