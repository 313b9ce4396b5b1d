"""Bulk import of persons from CSV and XLSX files: checked, sealed in parallel, resumable.

Design overview
---------------
A job (:class:`~sscard.registry.models.ImportJob`) belongs to one file, found again by the
file's SM3 digest (and the employer it is imported for). :func:`open_job` reads the file
once (digest, encoding, header) and refuses a bad file before any job exists; :func:`run`
then streams the rows::

    file --tabular--> rows --batches of `chunk`--> workers: read, check, seal (rows, sealing)
         --> this process, in line order: duplicates within the file, communities,
             registered persons --> one transaction per chunk: new rows (COPY on
             PostgreSQL), changed persons merged and updated, one audit entry, the job's
             counts and ``next_line`` --> rejects appended to the reject file

Workers are separate processes (spawned, so that a threaded server can start them) that
load the settings and keys themselves; small files are read in this process. Rows of new
persons are sealed by the workers under fresh ids; a row whose person is registered and
whose content digest differs is merged with the stored record and sealed again here,
under the person's id. At most two batches per worker are in flight, so memory stays
bounded; only the ID-number digests of the file (for duplicates) grow with it.

Resuming: a chunk, its job counters and its ``next_line`` commit together, and rejects
are written before that commit. A run that stops (crash, Ctrl-C, lost connection) leaves
the job ``running`` or ``failed``; the next run of the same file, or of the job, truncates
the reject file to the rejects committed, re-reads the ID numbers of the committed lines
(for duplicates) and carries on from ``next_line``. A ``running`` job whose counters have
not moved for :data:`LEASE` is taken to be orphaned.

Idempotence: a row identical to what is stored (same content digest) changes nothing;
a file already imported completely is not imported again unless asked (``again``).
"""

from __future__ import annotations

import csv
import logging
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, BinaryIO, NamedTuple

from sqlalchemy.orm import Session

from sscard import db
from sscard.crypto import fields
from sscard.db import new_id, utcnow
from sscard.errors import SSCardError
from sscard.iam import service as iam_service
from sscard.kit import context
from sscard.kit.context import Actor
from sscard.kit.masking import mask_id_number, mask_text
from sscard.registry import identifiers, records, repository, rows, sealing, service, tabular
from sscard.registry.errors import ImportFileInvalid, ImportJobBusy, ImportJobNotFound
from sscard.registry.models import ImportJob
from sscard.registry.records import PersonRecord
from sscard.registry.rows import RowRules
from sscard.registry.schemas import ImportJobOut
from sscard.settings import get_settings

log = logging.getLogger(__name__)

DEFAULT_CHUNK = 2000
LEASE = timedelta(seconds=60)
"""A running job whose counters have not moved for this long is taken to be orphaned."""
PARALLEL_FROM = 20_000
"""Files with fewer lines are read in this process (starting workers costs a second)."""
REJECT_HEADER = ("line", "id_number", "reasons")
MAX_PATH = 255

Batch = list[tuple[int, list[tabular.Cell]]]
_IN_COLUMN_ORDER = itemgetter(*repository.PERSON_COLUMNS)


# ---- what a worker makes of a row -----------------------------------------------------


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
class _Context:
    rules: RowRules
    employers: dict[str, int]


_worker: _Context | None = None


def _id_index(id_number: str) -> bytes | None:
    """The blind index of an ID number (the duplicate check's key), None when empty."""
    if not id_number:
        return None
    return fields.blind_index(id_number, purpose=sealing.ID_PURPOSE)


def _seal(line: int, record: PersonRecord, now: datetime) -> Accepted:
    """The row of a new person under a fresh id (keys are cached: no database needed)."""
    person_id = new_id()
    row = sealing.person_row(record, person_id=person_id, session=None, now=now)
    enrolments = tuple(
        tuple(
            {"person_id": person_id, "insurance_type": e.insurance_type, "status": e.status,
             "start_date": e.start_date, "end_date": e.end_date, "updated_at": now}[c]
            for c in repository.ENROLMENT_COLUMNS
        )
        for e in record.enrolments
    )  # fmt: skip
    return Accepted(
        line=line,
        id_key=row["id_number_index"],
        digest=row["content_digest"],
        community_code=record.community_code,
        row=_IN_COLUMN_ORDER(row),
        enrolments=enrolments,
    )


def prepare(batch: Batch, ctx: _Context) -> list[Result]:
    """Read, check and seal a batch of rows (in a worker, or here for small files)."""
    now = utcnow()
    results: list[Result] = []
    for line, cells in batch:
        parsed = rows.parse_row(cells, ctx.rules, ctx.employers)
        if parsed.problems:
            reasons = rows.reasons(parsed.problems, ctx.rules.header.titles)
            masked = mask_id_number(parsed.id_number)
            results.append(Rejected(line, _id_index(parsed.id_number), masked, reasons))
        else:
            results.append(_seal(line, parsed.record, now))
    return results


def _start_worker(database_url: str, ctx: _Context) -> None:
    """Worker start: own engine, keys cached, the import's rules; Ctrl-C is for the parent."""
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    db.configure(database_url)
    fields.prepare_keys()
    _worker = ctx


def _prepare_in_worker(batch: Batch) -> list[Result]:
    if _worker is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("import worker not started")
    return prepare(batch, _worker)


class _Preparer:
    """Prepares batches in order, in worker processes or in this one, a bounded few ahead."""

    def __init__(self, ctx: _Context, workers: int) -> None:
        self.ctx = ctx
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Preparer:
        if self.workers > 0:
            self.pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(get_settings().database_url, self.ctx),
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def map(self, batches: Iterable[Batch]) -> Iterator[tuple[Batch, list[Result]]]:
        if self.pool is None:
            for batch in batches:
                yield batch, prepare(batch, self.ctx)
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


# ---- reject file ----------------------------------------------------------------------


class RejectFile:
    """The CSV (UTF-8 with BOM) of rejected rows: line, masked ID number, reasons."""

    def __init__(self, path: Path, *, keep: int) -> None:
        """Append after the first ``keep`` rejects (those committed); drop any others."""
        self.path = path
        self.handle: IO[str] | None = None
        _truncate(path, keep)

    def _open(self) -> IO[str]:
        if self.handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            exists = self.path.exists() and self.path.stat().st_size > 0
            self.handle = self.path.open("a", encoding="utf-8" if exists else "utf-8-sig")
            if not exists:
                csv.writer(self.handle, lineterminator="\r\n").writerow(REJECT_HEADER)
        return self.handle

    def write(self, rejected: Sequence[Rejected]) -> None:
        """Append rejects and make sure they are on disk before the chunk commits."""
        if not rejected:
            return
        handle = self._open()
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerows((r.line, r.id_number, r.reasons) for r in rejected)
        handle.flush()
        os.fsync(handle.fileno())

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


def _truncate(path: Path, keep: int) -> None:
    """Keep the header and the first ``keep`` rejects (one line each) of a reject file."""
    if not path.exists():
        return
    kept = 0
    with path.open("rb+") as handle:
        handle.readline()
        while kept < keep and handle.readline():
            kept += 1
        handle.truncate(handle.tell())


# ---- jobs -----------------------------------------------------------------------------


def imports_dir() -> Path:
    """Where uploads and reject files are kept: ``<data_dir>/imports``."""
    return get_settings().data_dir / "imports"


def job_out(job: ImportJob) -> ImportJobOut:
    return ImportJobOut(
        id=job.id,
        file_name=Path(job.file_name).name if job.source == "cli" else job.file_name,
        source=job.source,
        status=job.status,
        rows_total=job.rows_total,
        rows_created=job.rows_created,
        rows_updated=job.rows_updated,
        rows_unchanged=job.rows_unchanged,
        rows_rejected=job.rows_rejected,
        next_line=job.next_line,
        has_rejects=job.rows_rejected > 0 and job.reject_path is not None,
        error=job.error,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


def get_job(session: Session, *, job_id: int) -> ImportJob:
    """The import job with this id, or ImportJobNotFound."""
    job = repository.import_job(session, job_id)
    if job is None:
        raise ImportJobNotFound(f"导入任务 {job_id} 不存在")
    return job


def list_jobs(
    session: Session, *, employer_id: int | None = None, limit: int = 50
) -> list[ImportJob]:
    """The most recent import jobs, newest first."""
    return repository.import_jobs(session, employer_id=employer_id, limit=limit)


def rejects_of(session: Session, *, job_id: int) -> Path:
    """The reject file of a job, or ImportJobNotFound when it has none."""
    return committed_rejects(session, job_id=job_id)[0]


def committed_rejects(session: Session, *, job_id: int) -> tuple[Path, int]:
    """The reject file of a job and how many of its rejects are committed.

    Rejects are written just before their chunk commits, so after a crash the file may
    hold a few more, dropped when the job resumes: readers take only the committed ones
    (:func:`reject_lines`). ImportJobNotFound when the job has none.
    """
    job = get_job(session, job_id=job_id)
    if not job.rows_rejected or job.reject_path is None or not Path(job.reject_path).exists():
        raise ImportJobNotFound(f"导入任务 {job_id} 没有被拒绝的行")
    return Path(job.reject_path), job.rows_rejected


def reject_lines(path: Path, keep: int) -> Iterator[bytes]:
    """The header and the first ``keep`` rejects of a reject file, as stored (streamed)."""
    with path.open("rb") as handle:
        yield handle.readline()
        for _ in range(keep):
            line = handle.readline()
            if not line:
                return
            yield line


def job_file(job: ImportJob) -> Path:
    """The file a job reads: the kept upload (API) or the operator's file (CLI)."""
    if job.source == "api":
        return imports_dir() / job.file_digest
    return Path(job.file_name)


def save_upload(source: BinaryIO) -> tuple[Path, str]:
    """Keep an uploaded file under :func:`imports_dir`, named by its SM3 digest."""
    folder = imports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"upload-{new_id()}.part"
    try:
        with partial.open("wb") as sink:
            digest, size = tabular.digest_stream(source, sink)
        if size == 0:
            raise ImportFileInvalid("上传的文件是空的")
        target = folder / digest
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target, digest


def submit_upload(
    session: Session,
    source: BinaryIO,
    *,
    file_name: str,
    actor: Actor,
    employer_id: int | None = None,
    employer_credit_code: str | None = None,
) -> Opened:
    """Keep an uploaded file and open its job (API); a file refused or done is not kept."""
    path, _ = save_upload(source)
    try:
        opened = open_job(
            session, path, source="api", actor=actor, file_name=Path(file_name).name[:MAX_PATH],
            employer_id=employer_id, employer_credit_code=employer_credit_code,
        )  # fmt: skip
    except SSCardError:
        if not repository.upload_in_use(session, path.name):
            path.unlink(missing_ok=True)
        raise
    if not opened.runnable and not repository.upload_in_use(session, path.name):
        path.unlink(missing_ok=True)
    return opened


@dataclass(frozen=True, slots=True)
class Opened:
    """A job ready to run (or already done), and what the scan of its file found."""

    job: ImportJobOut
    scan: tabular.Scan
    runnable: bool
    """False when the file was imported completely before (nothing to do)."""


def _header(path: Path, found: tabular.Scan) -> tabular.Header:
    """The file's header mapped to fields; ImportFileInvalid before any row is read."""
    with closing(tabular.read_rows(path, found)) as reader:
        first = next(reader, None)
    if first is None:
        raise ImportFileInvalid("文件没有内容（缺少表头）")
    return tabular.match_header(
        first[1], rows.ALIASES, required=rows.REQUIRED, ignored=rows.IGNORED,
        describe=rows.describe,
    )  # fmt: skip


def _employer_id(session: Session, credit_code: str | None, employer_id: int | None) -> int | None:
    if credit_code:
        return service.get_employer_by_credit_code(session, credit_code=credit_code).id
    if employer_id is not None:
        return service.get_employer(session, employer_id=employer_id).id
    return None


def open_job(
    session: Session,
    path: Path,
    *,
    source: str,
    actor: Actor,
    file_name: str | None = None,
    employer_credit_code: str | None = None,
    employer_id: int | None = None,
    reject_path: Path | None = None,
    again: bool = False,
) -> Opened:
    """The job of this file (found by digest and employer), created if there is none.

    The file is scanned and its header checked first, so a bad file is refused with a
    clear message and leaves no job behind. Flushes; the caller commits.
    """
    path = path.resolve()
    found = tabular.scan(path)
    _header(path, found)
    name = file_name or str(path)
    if len(name) > MAX_PATH:
        raise ImportFileInvalid(f"文件路径过长（超过 {MAX_PATH} 个字符），请移到较短的路径下")
    employer = _employer_id(session, employer_credit_code, employer_id)
    job = repository.unfinished_job(session, found.digest, employer)
    if job is not None and job.status == "completed" and not again:
        return Opened(job_out(job), found, runnable=False)
    if job is None or job.status == "completed":
        job = _new_job(session, found, name, source, employer, actor)
    if job.reject_path is None or (reject_path is not None and job.next_line == 0):
        job.reject_path = str(reject_path or imports_dir() / f"job-{job.id}-rejects.csv")
    session.flush()
    return Opened(job_out(job), found, runnable=True)


def _new_job(
    session: Session, found: tabular.Scan, name: str, source: str, employer: int | None,
    actor: Actor,
) -> ImportJob:  # fmt: skip
    now = utcnow()
    job = ImportJob(
        file_name=name, file_digest=found.digest, source=source, employer_id=employer,
        status="pending", rows_total=max(found.lines - 1, 0), rows_created=0, rows_updated=0,
        rows_unchanged=0, rows_rejected=0, next_line=0, created_by=actor.id, created_at=now,
        updated_at=now,
    )  # fmt: skip
    return repository.add_import_job(session, job)


# ---- running a job --------------------------------------------------------------------


@dataclass(slots=True)
class Progress:
    """Where a running import stands (after each committed chunk)."""

    job_id: int
    expected: int
    """Data rows the file is expected to hold (from its line count)."""
    done: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    next_line: int = 0
    resumed_from: int = 0
    """Rows done before this run started (a resumed job)."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    chunk: int = DEFAULT_CHUNK
    workers: int | None = None
    """Worker processes; None picks by the file's size and the machine's cores."""
    progress: Callable[[Progress], None] | None = None
    after_chunk: Callable[[Progress], None] | None = None
    """Called after each commit (tests use it to interrupt a run)."""


@dataclass(slots=True)
class _Run:
    job_id: int
    label: str
    rules: RowRules
    employers: dict[str, int]
    rejects: RejectFile
    progress: Progress
    seen: dict[bytes, int] = field(default_factory=dict)
    """ID-number digest -> first line, for duplicates within the file."""
    communities: dict[str, bool] = field(default_factory=dict)


def _claim(job_id: int) -> ImportJob:
    now = utcnow()
    with db.transaction() as session:
        job = get_job(session, job_id=job_id)
        if job.status == "completed":
            return job
        if not repository.claim_import_job(session, job_id, now=now, stale_before=now - LEASE):
            wait = int(LEASE.total_seconds())
            raise ImportJobBusy(f"导入任务 {job_id} 正在运行；若其进程已停止，请 {wait} 秒后重试")
        session.refresh(job)
        return job


def _fail(job_id: int, exc: BaseException) -> None:
    if isinstance(exc, KeyboardInterrupt):
        message = "已中断"
    elif isinstance(exc, SSCardError):
        message = exc.message
    else:
        message = f"{type(exc).__name__}: {exc}"
    try:
        with db.transaction() as session:
            job = get_job(session, job_id=job_id)
            job.status, job.error, job.updated_at = "failed", mask_text(message)[:500], utcnow()
    except Exception:  # the database may be what failed; the job stays as it was
        log.exception("could not mark import job %s failed", job_id)


def _workers(requested: int | None, lines: int) -> int:
    if requested is not None:
        return max(requested, 0)
    if lines < PARALLEL_FROM:
        return 0
    return max(min(os.cpu_count() or 1, 8), 1)


def _setup(job: ImportJob, header: tabular.Header, actor: Actor) -> _Run:
    with db.transaction() as session:
        employer = (
            service.get_employer(session, employer_id=job.employer_id) if job.employer_id else None
        )
        wanted = "employer_credit_code" in header.columns
        employers = service.employer_directory(session) if wanted else {}
        fields.prepare_keys(session)
    rules = RowRules(
        header=header,
        today=date.today(),
        region_prefix=iam_service.region_scope(actor),
        employer=(employer.credit_code, employer.id) if employer else None,
    )
    done = job.rows_created + job.rows_updated + job.rows_unchanged + job.rows_rejected
    progress = Progress(
        job.id, job.rows_total, done, job.rows_created, job.rows_updated, job.rows_unchanged,
        job.rows_rejected, job.next_line, done,
    )  # fmt: skip
    reject_path = Path(job.reject_path or imports_dir() / f"job-{job.id}-rejects.csv")
    return _Run(
        job.id, f"import-job-{job.id}", rules, employers,
        RejectFile(reject_path, keep=job.rows_rejected), progress,
    )  # fmt: skip


def run(job_id: int, *, actor: Actor, options: RunOptions | None = None) -> ImportJobOut:
    """Run (or resume) an import job to the end; the job as it finished.

    Raises ImportJobBusy when another process is running it; any failure marks the job
    ``failed`` (with the reason) and is raised again.
    """
    options = options or RunOptions()
    with context.acting(actor, purpose="批量导入人员"):
        job = _claim(job_id)
        if job.status != "completed":
            try:
                _run_claimed(job, actor, options)
            except BaseException as exc:
                _fail(job_id, exc)
                raise
        with db.transaction() as session:
            return job_out(get_job(session, job_id=job_id))


def _run_claimed(job: ImportJob, actor: Actor, options: RunOptions) -> None:
    path = job_file(job)
    if not path.exists():
        raise ImportFileInvalid(f"找不到导入文件 {path.name}")
    found = tabular.scan(path)
    if found.digest != job.file_digest:
        raise ImportFileInvalid(f"文件 {path.name} 在导入任务 {job.id} 开始后被改动过，请重新导入")
    header = _header(path, found)
    state = _setup(job, header, actor)
    reader = tabular.read_rows(path, found)
    next(reader, None)
    try:
        remaining = _skip_committed(reader, job.next_line, state)
        ctx = _Context(state.rules, state.employers)
        with _Preparer(ctx, _workers(options.workers, found.lines)) as preparer:
            for batch, results in preparer.map(_batches(remaining, max(options.chunk, 1))):
                _commit(state, batch, results)
                if options.progress is not None:
                    options.progress(state.progress)
                if options.after_chunk is not None:
                    options.after_chunk(state.progress)
        _finish(state)
    finally:
        reader.close()
        state.rejects.close()


def _skip_committed(
    reader: Iterator[tuple[int, list[tabular.Cell]]], next_line: int, state: _Run
) -> Iterator[tuple[int, list[tabular.Cell]]]:
    """The rows from ``next_line`` on; the ID numbers of those before are remembered."""
    id_column = state.rules.header.columns["id_number"]
    for line, cells in reader:
        if line >= next_line:
            yield line, cells
            yield from reader
            return
        cell = cells[id_column] if id_column < len(cells) else None
        index = _id_index(identifiers.normalise_id_number(rows.text(cell)))
        if index is not None:
            state.seen.setdefault(index, line)


def _batches(source: Iterable[tuple[int, list[tabular.Cell]]], size: int) -> Iterator[Batch]:
    batch: Batch = []
    for item in source:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _duplicates(state: _Run, results: list[Result]) -> tuple[list[Accepted], list[Rejected]]:
    """Split results into good rows and rejects; a repeated ID number is a reject."""
    accepted: list[Accepted] = []
    rejected: list[Rejected] = []
    title = state.rules.header.titles.get("id_number", "id_number")
    for result in results:
        first = state.seen.get(result.id_key) if result.id_key is not None else None
        if first is not None:
            masked = _masked_from_row(result) if isinstance(result, Accepted) else result.id_number
            reason = f"{title}: 与第 {first} 行的证件号码重复"
            rejected.append(Rejected(result.line, result.id_key, masked, reason))
            continue
        if result.id_key is not None:
            state.seen[result.id_key] = result.line
        if isinstance(result, Accepted):
            accepted.append(result)
        else:
            rejected.append(result)
    return accepted, rejected


def _masked_from_row(result: Accepted) -> str:
    return str(result.row[repository.PERSON_COLUMNS.index("id_number_masked")])


def _unknown_communities(
    session: Session, state: _Run, accepted: list[Accepted]
) -> tuple[list[Accepted], list[Rejected]]:
    """Rows naming a community that is not registered become rejects."""
    wanted = {a.community_code for a in accepted if a.community_code}
    unknown = [c for c in wanted if c not in state.communities]
    if unknown:
        _, missing = service.missing_references(session, employer_ids=[], community_codes=unknown)
        state.communities.update({c: c not in missing for c in unknown})
    good = [a for a in accepted if not a.community_code or state.communities[a.community_code]]
    title = state.rules.header.titles.get("community_code", "community_code")
    bad = [
        Rejected(a.line, a.id_key, _masked_from_row(a), f"{title}: 社区 {a.community_code} 不存在")
        for a in accepted
        if a.community_code and not state.communities[a.community_code]
    ]
    return good, bad


def _changes(
    session: Session, state: _Run, batch: Batch, changed: list[tuple[Accepted, str]]
) -> tuple[list[PersonRecord], list[Rejected]]:
    """Registered persons whose row differs: the row's values merged into what is stored."""
    if not changed:
        return [], []
    stored = service.stored_records(session, person_ids=[pid for _, pid in changed])
    cells = dict(batch)
    merged: list[PersonRecord] = []
    rejected: list[Rejected] = []
    for accepted, person_id in changed:
        parsed = rows.parse_row(cells[accepted.line], state.rules, state.employers)
        old = stored[person_id]
        new = rows.merged(old, parsed.record, parsed.given)
        found = rows.scope_problems(old, state.rules.region_prefix) or records.problems(new)
        if found:
            reasons = rows.reasons(found, state.rules.header.titles)
            masked = _masked_from_row(accepted)
            rejected.append(Rejected(accepted.line, accepted.id_key, masked, reasons))
        else:
            merged.append(new)
    return merged, rejected


def _classify(
    accepted: list[Accepted], existing: dict[bytes, tuple[str, bytes]]
) -> tuple[list[Accepted], int, list[tuple[Accepted, str]]]:
    """New persons, how many rows equal what is stored, and (row, person id) of the rest."""
    fresh: list[Accepted] = []
    same = 0
    changed: list[tuple[Accepted, str]] = []
    for row in accepted:
        found = existing.get(row.id_key)
        if found is None:
            fresh.append(row)
        elif found[1] == row.digest:
            same += 1
        else:
            changed.append((row, found[0]))
    return fresh, same, changed


def _commit(state: _Run, batch: Batch, results: list[Result]) -> None:
    """One chunk: duplicates, references, insert and update, counters, rejects; one commit."""
    accepted, rejected = _duplicates(state, results)
    with db.transaction() as session:
        accepted, bad = _unknown_communities(session, state, accepted)
        rejected += bad
        existing = service.existing_persons(session, indexes=[a.id_key for a in accepted])
        fresh, same, changed = _classify(accepted, existing)
        merged, bad = _changes(session, state, batch, changed)
        rejected += bad
        counts = service.import_persons(
            session, rows=[a.row for a in fresh],
            enrolments=[e for a in fresh for e in a.enrolments], records=merged,
            unchanged=same, label=state.label,
        )  # fmt: skip
        rejected.sort(key=lambda r: r.line)
        _advance(session, state, counts, len(rejected), batch[-1][0] + 1)
        state.rejects.write(rejected)


def _advance(
    session: Session, state: _Run, counts: service.UpsertCounts, rejected: int, next_line: int
) -> None:
    progress = state.progress
    progress.created += counts.created
    progress.updated += counts.updated
    progress.unchanged += counts.unchanged
    progress.rejected += rejected
    progress.done = progress.created + progress.updated + progress.unchanged + progress.rejected
    progress.next_line = next_line
    job = get_job(session, job_id=state.job_id)
    job.rows_created, job.rows_updated = progress.created, progress.updated
    job.rows_unchanged, job.rows_rejected = progress.unchanged, progress.rejected
    job.next_line, job.updated_at = next_line, utcnow()


def _finish(state: _Run) -> None:
    with db.transaction() as session:
        job = get_job(session, job_id=state.job_id)
        job.status, job.rows_total = "completed", state.progress.done
        job.finished_at = job.updated_at = utcnow()
        if not job.rows_rejected and job.reject_path:
            Path(job.reject_path).unlink(missing_ok=True)
        if job.source == "api" and not repository.upload_in_use(
            session, job.file_digest, besides=job.id
        ):
            job_file(job).unlink(missing_ok=True)
    state.progress.expected = state.progress.done


# ---- conveniences for the CLI and the API ---------------------------------------------


def import_file(
    path: Path,
    *,
    actor: Actor,
    source: str = "cli",
    employer_credit_code: str | None = None,
    reject_path: Path | None = None,
    again: bool = False,
    options: RunOptions | None = None,
) -> tuple[ImportJobOut, bool]:
    """Import (or resume importing) a file; the job, and False if it had been done before."""
    with db.transaction() as session:
        opened = open_job(
            session, path, source=source, actor=actor,
            employer_credit_code=employer_credit_code, reject_path=reject_path, again=again,
        )  # fmt: skip
    if not opened.runnable:
        return opened.job, False
    return run(opened.job.id, actor=actor, options=options), True


def run_in_background(job_id: int, actor: Actor) -> None:
    """Run a job from a background task: failures are kept on the job and logged."""
    try:
        run(job_id, actor=actor)
    except ImportJobBusy:
        log.info("import job %s is already running elsewhere", job_id)
    except Exception:
        log.exception("import job %s failed", job_id)
