"""Running a bulk import of persons: checked, sealed in parallel, committed chunk by chunk.

Design overview
---------------
:func:`run` streams the rows of a job's file (opened by
:func:`~sscard.registry.imports.service.open_job`)::

    file --tabular--> rows --batches of `chunk`--> workers: read, check, seal (rows, sealing)
         --> this process, in line order: duplicates within the file, communities,
             registered persons --> one transaction per chunk: new rows (COPY on
             PostgreSQL), changed persons merged and updated, one audit entry, the job's
             counts and ``next_line`` --> rejects appended to the reject file

A row whose person is registered and whose content digest differs is merged with the
stored record and sealed again here, under the person's id. Only the ID-number digests of
the file (for duplicates) grow with it.

Unit of work
------------
An import is far too long for the one transaction a request or command owns, so it owns
its transactions, all opened by :class:`JobUnitOfWork` and nowhere else; each is short
and leaves the job consistent on its own:

1. ``claim``: mark the job running (a lease: a ``running`` job whose counters have not
   moved for :data:`~sscard.registry.imports.service.LEASE` is taken to be orphaned);
2. ``setup``: read the import's employer and the employer directory, load keys;
3. ``commit_chunk``, once per chunk: new and changed persons, one audit entry, the job's
   counters and ``next_line`` commit together; the chunk's rejects are appended and
   fsynced to the reject file inside the transaction, just before it commits;
4. ``finish``: mark the job completed, drop the files no longer needed;
5. ``fail``: after any failure (or Ctrl-C), in a fresh transaction, mark the job failed
   (an uploaded file is dropped: posting it again resumes the job).

An uploaded file waits sealed (encrypted); a run opens it into a private working copy
(``upload_key`` reads the key, one more short transaction) and removes the copy when it
ends (see :mod:`~sscard.registry.imports.files`).

Resuming: a run that stops (crash, kill -9, Ctrl-C, lost connection) loses at most the
chunk in progress and leaves the job ``running`` or ``failed``; the next run of the same
file, or of the job, truncates the reject file to the rejects committed, re-reads the ID
numbers of the committed lines (for duplicates) and carries on from ``next_line``.

Idempotence: a row identical to what is stored (same content digest) changes nothing;
a file already imported completely is not imported again unless asked (``again``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from sscard import db
from sscard.crypto import fields
from sscard.db import utcnow
from sscard.errors import SSCardError
from sscard.iam import service as iam_service
from sscard.kit import context
from sscard.kit.context import Actor
from sscard.registry import identifiers, records
from sscard.registry.bulk import service as bulk_service
from sscard.registry.imports import files, rows, service, tabular
from sscard.registry.imports.errors import ImportFileInvalid, ImportJobBusy
from sscard.registry.imports.models import ImportJob
from sscard.registry.imports.rejects import RejectFile
from sscard.registry.imports.rows import RowRules
from sscard.registry.imports.schemas import ImportJobOut
from sscard.registry.imports.workers import (
    Accepted,
    Batch,
    Context,
    Preparer,
    Rejected,
    Result,
    id_index,
)
from sscard.registry.persons import sealing
from sscard.registry.persons.repository import PERSON_COLUMNS
from sscard.registry.records import PersonRecord
from sscard.registry.units import service as units_service

log = logging.getLogger(__name__)

DEFAULT_CHUNK = 2000
PARALLEL_FROM = 20_000
"""Files with fewer lines are read in this process (starting workers costs a second)."""


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

    def advance(self, counts: bulk_service.UpsertCounts, rejected: int, next_line: int) -> None:
        """Count a committed chunk."""
        self.created += counts.created
        self.updated += counts.updated
        self.unchanged += counts.unchanged
        self.rejected += rejected
        self.done = self.created + self.updated + self.unchanged + self.rejected
        self.next_line = next_line

    def totals(self) -> bulk_service.UpsertCounts:
        """Persons created, updated and unchanged so far."""
        return bulk_service.UpsertCounts(self.created, self.updated, self.unchanged)


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run an import: chunk size, workers, and callbacks after each chunk."""

    chunk: int = DEFAULT_CHUNK
    workers: int | None = None
    """Worker processes; None picks by the file's size and the machine's cores."""
    progress: Callable[[Progress], None] | None = None
    after_chunk: Callable[[Progress], None] | None = None
    """Called after each commit (tests use it to interrupt a run)."""


@dataclass(slots=True)
class _Run:
    """A run's state: its rules, reject file, progress, and what it has seen of the file."""

    job_id: int
    label: str
    rules: RowRules
    employers: dict[str, int]
    keys: fields.FieldKeys
    """The keys rows are sealed with in this process."""
    rejects: RejectFile
    progress: Progress
    seen: dict[bytes, int] = field(default_factory=dict)
    """ID-number digest -> first line, for duplicates within the file."""
    communities: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def resuming(
        cls, job: ImportJob, rules: RowRules, employers: dict[str, int], keys: fields.FieldKeys
    ) -> _Run:
        """The state of a run of ``job`` carrying on from its committed counts."""
        done = job.rows_created + job.rows_updated + job.rows_unchanged + job.rows_rejected
        progress = Progress(
            job_id=job.id,
            expected=job.rows_total,
            done=done,
            created=job.rows_created,
            updated=job.rows_updated,
            unchanged=job.rows_unchanged,
            rejected=job.rows_rejected,
            next_line=job.next_line,
            resumed_from=done,
        )
        reject_path = Path(job.reject_path or service.imports_dir() / f"job-{job.id}-rejects.csv")
        rejects = RejectFile(reject_path, keep=job.rows_rejected)
        return cls(job.id, f"import-job-{job.id}", rules, employers, keys, rejects, progress)


class JobUnitOfWork:
    """The transactions of one run of one job (see "Unit of work" in the module overview).

    Every method is exactly one transaction, committed when it returns and rolled back if
    it raises; nothing else in a run opens one.
    """

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id

    def claim(self) -> ImportJob:
        """Mark the job running (ImportJobBusy if another process runs it); the job."""
        with db.transaction() as session:
            return service.claim_job(session, job_id=self.job_id, now=utcnow())

    def setup(self, job: ImportJob, header: tabular.Header, actor: Actor) -> _Run:
        """The run's rules and employer directory; keys loaded for the sealing to come."""
        with db.transaction() as session:
            employer = (
                units_service.get_employer(session, employer_id=job.employer_id)
                if job.employer_id
                else None
            )
            wanted = "employer_credit_code" in header.columns
            employers = units_service.employer_directory(session) if wanted else {}
            keys = sealing.keys(session)
        rules = RowRules(
            header=header,
            today=date.today(),
            region_prefix=iam_service.region_scope(actor),
            employer=(employer.credit_code, employer.id) if employer else None,
        )
        return _Run.resuming(job, rules, employers, keys)

    def commit_chunk(self, state: _Run, batch: Batch, results: list[Result]) -> None:
        """One chunk: duplicates, references, inserts and updates, counters, rejects."""
        accepted, rejected = _duplicates(state, results)
        with db.transaction() as session:
            accepted, bad = _unknown_communities(session, state, accepted)
            rejected += bad
            existing = bulk_service.existing_persons(session, indexes=[a.id_key for a in accepted])
            fresh, same, changed = _classify(accepted, existing)
            merged, bad = _changes(session, state, batch, changed)
            rejected += bad
            counts = bulk_service.import_persons(
                session,
                rows=[a.row for a in fresh],
                enrolments=[e for a in fresh for e in a.enrolments],
                records=merged,
                unchanged=same,
                label=state.label,
            )
            rejected.sort(key=lambda r: r.line)
            state.progress.advance(counts, len(rejected), batch[-1][0] + 1)
            service.record_chunk(
                session,
                job_id=self.job_id,
                totals=state.progress.totals(),
                rejected=state.progress.rejected,
                next_line=state.progress.next_line,
            )
            state.rejects.write(rejected)

    def upload_key(self, version: int) -> tuple[int, bytes]:
        """The key that opens the job's sealed upload (``version`` of ``import-files``)."""
        with db.transaction() as session:
            return files.wrapping_key(session, version)

    def finish(self, state: _Run) -> None:
        """Mark the job completed."""
        with db.transaction() as session:
            service.complete_job(session, job_id=self.job_id, rows_total=state.progress.done)
        state.progress.expected = state.progress.done

    def fail(self, exc: BaseException) -> None:
        """Mark the job failed with the reason; a database that is down leaves it as it was."""
        if isinstance(exc, KeyboardInterrupt):
            message = "已中断"
        elif isinstance(exc, SSCardError):
            message = exc.message
        else:
            message = f"{type(exc).__name__}: {exc}"
        try:
            with db.transaction() as session:
                service.fail_job(session, job_id=self.job_id, message=message)
        except Exception:  # the database may be what failed; the job stays as it was
            log.exception("could not mark import job %s failed", self.job_id)

    def outcome(self) -> ImportJobOut:
        """The job as it stands."""
        with db.transaction() as session:
            return service.job_out(service.get_job(session, job_id=self.job_id))


# ---- a run ---------------------------------------------------------------------------


def run(job_id: int, *, actor: Actor, options: RunOptions | None = None) -> ImportJobOut:
    """Run (or resume) an import job to the end; the job as it finished.

    Raises ImportJobBusy when another process is running it; any failure marks the job
    ``failed`` (with the reason) and is raised again.
    """
    options = options or RunOptions()
    work = JobUnitOfWork(job_id)
    with context.acting(actor, purpose="批量导入人员"):
        job = work.claim()
        if job.status != "completed":
            try:
                _run_claimed(work, job, actor, options)
            except BaseException as exc:
                work.fail(exc)
                raise
        return work.outcome()


def _run_claimed(work: JobUnitOfWork, job: ImportJob, actor: Actor, options: RunOptions) -> None:
    path = service.job_file(job)
    if not path.exists():
        raise ImportFileInvalid(f"找不到导入文件 {path.name[:16]}，请重新上传或指定文件")
    if job.source != "api":
        _run_file(work, job, path, actor, options)
        return
    files.sweep()
    copy = files.working_copy(job.id)
    try:
        wrapping = work.upload_key(files.key_version(path))
        files.unseal(path, copy, digest=job.file_digest, wrapping=wrapping)
        _run_file(work, job, copy, actor, options)
    finally:
        copy.unlink(missing_ok=True)


def _run_file(
    work: JobUnitOfWork, job: ImportJob, path: Path, actor: Actor, options: RunOptions
) -> None:
    found = tabular.scan(path)
    if found.digest != job.file_digest:
        raise ImportFileInvalid(f"文件 {path.name} 在导入任务 {job.id} 开始后被改动过，请重新导入")
    header = service.read_header(path, found)
    state = work.setup(job, header, actor)
    reader = tabular.read_rows(path, found)
    next(reader, None)
    try:
        remaining = _skip_committed(reader, job.next_line, state)
        ctx = Context(state.rules, state.employers)
        with Preparer(ctx, _workers(options.workers, found.lines), state.keys) as preparer:
            for batch, results in preparer.map(_batches(remaining, max(options.chunk, 1))):
                work.commit_chunk(state, batch, results)
                if options.progress is not None:
                    options.progress(state.progress)
                if options.after_chunk is not None:
                    options.after_chunk(state.progress)
        work.finish(state)
    finally:
        reader.close()
        state.rejects.close()


def _workers(requested: int | None, lines: int) -> int:
    if requested is not None:
        return max(requested, 0)
    if lines < PARALLEL_FROM:
        return 0
    return max(min(os.cpu_count() or 1, 8), 1)


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
        index = id_index(identifiers.normalise_id_number(rows.text(cell)), state.keys)
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
    return str(result.row[PERSON_COLUMNS.index("id_number_masked")])


def _unknown_communities(
    session: Session, state: _Run, accepted: list[Accepted]
) -> tuple[list[Accepted], list[Rejected]]:
    """Rows naming a community that is not registered become rejects."""
    wanted = {a.community_code for a in accepted if a.community_code}
    unknown = [c for c in wanted if c not in state.communities]
    if unknown:
        _, missing = units_service.missing_references(
            session, employer_ids=[], community_codes=unknown
        )
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
    stored = bulk_service.stored_records(session, person_ids=[pid for _, pid in changed])
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
        opened = service.open_job(
            session,
            path,
            source=source,
            actor=actor,
            employer_credit_code=employer_credit_code,
            reject_path=reject_path,
            again=again,
        )
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
