"""Import job use cases: open a job for a file (or an upload), find, list; its state changes.

A job (:class:`~sscard.registry.imports.models.ImportJob`) belongs to one file, found again
by the file's SM3 digest (and the employer it is imported for). :func:`open_job` reads the
file once (digest, encoding, header) and refuses a bad file before any job exists. The run
itself, which owns its transactions, is in :mod:`~sscard.registry.imports.job`; the state
changes it commits (claim, progress, completion, failure) are here, and flush only.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.iam import service as iam_service
from sscard.iam.operators import service as operators_service
from sscard.kit.context import Actor, ActorKind
from sscard.kit.masking import mask_text
from sscard.registry.bulk.service import UpsertCounts
from sscard.registry.imports import files, repository, rows, tabular
from sscard.registry.imports.errors import ImportFileInvalid, ImportJobBusy, ImportJobNotFound
from sscard.registry.imports.models import ImportJob
from sscard.registry.imports.schemas import ImportJobOut
from sscard.registry.units import service as units_service

LEASE = timedelta(seconds=60)
"""A running job whose counters have not moved for this long is taken to be orphaned."""
MAX_PATH = 255


def imports_dir() -> Path:
    """Where uploads and reject files are kept: ``<data_dir>/imports`` (0700)."""
    return files.imports_dir()


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


STATUSES = ("pending", "running", "completed", "failed")


def jobs_in_scope(
    session: Session,
    *,
    actor: Actor,
    status: str | None = None,
    employer_id: int | None = None,
    limit: int = 50,
) -> list[ImportJob]:
    """The recent jobs the actor may follow, newest first (optionally of one status).

    An operator follows the jobs started by the operators of their own institution; the
    platform's own operators (and the CLI) follow every job.
    """
    return repository.import_jobs(
        session,
        employer_id=employer_id,
        limit=limit,
        status=status,
        created_by=_starters(session, actor),
    )


def job_in_scope(session: Session, *, job_id: int, actor: Actor) -> ImportJob:
    """The job if the actor may follow it, else ImportJobNotFound (as if it did not exist)."""
    job = get_job(session, job_id=job_id)
    starters = _starters(session, actor)
    if starters is not None and job.created_by not in starters:
        raise ImportJobNotFound(f"导入任务 {job_id} 不存在")
    return job


def _starters(session: Session, actor: Actor) -> list[str] | None:
    """The operators whose jobs the actor follows (None: every job)."""
    institution = actor.institution_code
    if actor.kind is not ActorKind.operator or institution in (
        None,
        iam_service.PLATFORM_INSTITUTION,
    ):
        return None
    found = operators_service.list_operators(session, institution_code=institution)
    return [operator.username for operator in found]


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


def job_file(job: ImportJob) -> Path:
    """The file a job reads: the sealed upload (API) or the operator's file (CLI)."""
    if job.source == "api":
        return imports_dir() / job.file_digest
    return Path(job.file_name)


def submit_upload(
    session: Session,
    source: BinaryIO,
    *,
    file_name: str,
    actor: Actor,
    employer_id: int | None = None,
    employer_credit_code: str | None = None,
    again: bool = False,
) -> Opened:
    """Check an uploaded file, open its job (API) and keep the file sealed for the run.

    The upload is checked in a private working copy, removed whatever happens; only a
    file whose job is to run is kept, encrypted (:mod:`~sscard.registry.imports.files`).
    ImportJobBusy when the file's job is running (or about to) already. ``again`` imports
    a file that was imported completely once more, as a new job (as the CLI's ``--again``).
    """
    plain, digest = files.receive(source)
    stored = imports_dir() / digest
    try:
        opened = open_job(
            session,
            plain,
            source="api",
            actor=actor,
            file_name=Path(file_name).name[:MAX_PATH],
            employer_id=employer_id,
            employer_credit_code=employer_credit_code,
            again=again,
        )
        if opened.runnable:
            stale_before = utcnow() - LEASE
            if not opened.new and repository.job_busy(
                session, opened.job.id, stale_before=stale_before
            ):
                raise ImportJobBusy(
                    f"导入任务 {opened.job.id} 正在运行，请等它结束后再查看结果，不必重复上传"
                )
            files.seal(plain, stored, digest=digest, wrapping=files.wrapping_key(session))
    except BaseException:
        if not repository.upload_in_use(session, digest):
            stored.unlink(missing_ok=True)
        raise
    finally:
        plain.unlink(missing_ok=True)
    return opened


@dataclass(frozen=True, slots=True)
class Opened:
    """A job ready to run (or already done), and what the scan of its file found."""

    job: ImportJobOut
    scan: tabular.Scan
    runnable: bool
    """False when the file was imported completely before (nothing to do)."""
    new: bool = False
    """True when the job was made now (no job of the file was pending or running)."""


def read_header(path: Path, found: tabular.Scan) -> tabular.Header:
    """The file's header mapped to fields; ImportFileInvalid before any row is read."""
    with closing(tabular.read_rows(path, found)) as reader:
        first = next(reader, None)
    if first is None:
        raise ImportFileInvalid("文件没有内容（缺少表头）")
    return tabular.match_header(
        first[1],
        rows.ALIASES,
        required=rows.REQUIRED,
        ignored=rows.IGNORED,
        describe=rows.describe,
    )


def _employer_id(session: Session, credit_code: str | None, employer_id: int | None) -> int | None:
    if credit_code:
        return units_service.get_employer_by_credit_code(session, credit_code=credit_code).id
    if employer_id is not None:
        return units_service.get_employer(session, employer_id=employer_id).id
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
    read_header(path, found)
    name = file_name or str(path)
    if len(name) > MAX_PATH:
        raise ImportFileInvalid(f"文件路径过长（超过 {MAX_PATH} 个字符），请移到较短的路径下")
    employer = _employer_id(session, employer_credit_code, employer_id)
    job = repository.unfinished_job(session, found.digest, employer)
    if job is not None and job.status == "completed" and not again:
        return Opened(job_out(job), found, runnable=False)
    new = job is None or job.status == "completed"
    if job is None or job.status == "completed":
        job = _new_job(session, found, name, source, employer, actor)
    if job.reject_path is None or (reject_path is not None and job.next_line == 0):
        job.reject_path = str(reject_path or imports_dir() / f"job-{job.id}-rejects.csv")
    session.flush()
    return Opened(job_out(job), found, runnable=True, new=new)


def _new_job(
    session: Session,
    found: tabular.Scan,
    name: str,
    source: str,
    employer: int | None,
    actor: Actor,
) -> ImportJob:
    now = utcnow()
    job = ImportJob(
        file_name=name,
        file_digest=found.digest,
        source=source,
        employer_id=employer,
        status="pending",
        rows_total=max(found.lines - 1, 0),
        rows_created=0,
        rows_updated=0,
        rows_unchanged=0,
        rows_rejected=0,
        next_line=0,
        created_by=actor.id,
        created_at=now,
        updated_at=now,
    )
    return repository.add_import_job(session, job)


# ---- running a job --------------------------------------------------------------------


# ---- state changes of a running job (each committed by the job's unit of work) --------


def claim_job(session: Session, *, job_id: int, now: datetime) -> ImportJob:
    """Mark the job running, unless it is completed; ImportJobBusy when another runs it."""
    job = get_job(session, job_id=job_id)
    if job.status == "completed":
        return job
    if not repository.claim_import_job(session, job_id, now=now, stale_before=now - LEASE):
        wait = int(LEASE.total_seconds())
        raise ImportJobBusy(f"导入任务 {job_id} 正在运行；若其进程已停止，请 {wait} 秒后重试")
    repository.reload(session, job)
    return job


def record_chunk(
    session: Session, *, job_id: int, totals: UpsertCounts, rejected: int, next_line: int
) -> None:
    """The job's counters after a chunk (running totals) and the first line not yet done."""
    job = get_job(session, job_id=job_id)
    job.rows_created, job.rows_updated = totals.created, totals.updated
    job.rows_unchanged, job.rows_rejected = totals.unchanged, rejected
    job.next_line, job.updated_at = next_line, utcnow()


def complete_job(session: Session, *, job_id: int, rows_total: int) -> None:
    """Mark the job completed; drop an empty reject file and an upload no job still reads."""
    job = get_job(session, job_id=job_id)
    job.status, job.rows_total = "completed", rows_total
    job.finished_at = job.updated_at = utcnow()
    if not job.rows_rejected and job.reject_path:
        Path(job.reject_path).unlink(missing_ok=True)
    _drop_upload(session, job)


def fail_job(session: Session, *, job_id: int, message: str) -> None:
    """Mark the job failed with the reason (personal numbers masked); its upload is
    dropped (posting the file again resumes the job from its last committed line)."""
    job = get_job(session, job_id=job_id)
    job.status, job.error, job.updated_at = "failed", mask_text(message)[:500], utcnow()
    _drop_upload(session, job)


def _drop_upload(session: Session, job: ImportJob) -> None:
    """Remove a job's sealed upload unless another unfinished job reads it (never a CLI file)."""
    if job.source == "api" and not repository.upload_in_use(
        session, job.file_digest, besides=job.id
    ):
        job_file(job).unlink(missing_ok=True)
