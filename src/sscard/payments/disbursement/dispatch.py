"""Sending to and fetching from the banks, in transactions of their own.

A bank call never sits inside an open transaction: a step writes the files and holds the
money in one transaction, calls the banks after it committed, and records what they said
in another. A file written but not yet delivered stays ``prepared`` and goes with the next
send (the bank answers a file it already has with its first receipt). Call these outside
any transaction (a request's or command's unit of work must have ended).
"""

from __future__ import annotations

from pathlib import Path

from sscard import db
from sscard.exchange.errors import PackageRejected, PeerRefused, PeerUnavailable
from sscard.exchange.files import service as exchange_files
from sscard.iam import service as iam_service
from sscard.kit.context import Actor
from sscard.kit.masking import mask_text
from sscard.payments.disbursement import bankfiles, failures, repository, service
from sscard.payments.disbursement.schemas import RunReport

MANAGE = "payments.disbursement.manage"


def send_batch(*, batch_no: str, actor: Actor) -> RunReport:
    """Write the payment files of the batch's pending lines and deliver every file not
    yet at its bank."""
    iam_service.authorize(actor, MANAGE)
    with db.transaction() as session:
        batch = service.get_batch(session, batch_no=batch_no, actor=actor, lock=True)
        bankfiles.prepare_files(session, batch=batch, actor=actor)
        waiting = [
            (f.file_no, f.bank_code, Path(f.path))
            for f in repository.files_of(session, batch.id, ("prepared",))
        ]
    report = RunReport(batch_no=batch.batch_no)
    for file_no, bank_code, path in waiting:
        exchange_files.submit_disbursement(path=path, file_no=file_no, bank_code=bank_code)
        with db.transaction() as session:
            bankfiles.mark_sent(session, file_no=file_no)
        report.files_sent += 1
    return report


def fetch_returns(*, batch_no: str, actor: Actor) -> RunReport:
    """Download and apply the return file of every file of the batch at its bank."""
    iam_service.authorize(actor, MANAGE)
    with db.transaction() as session:
        batch = service.get_batch(session, batch_no=batch_no, actor=actor)
        waiting = [
            (f.file_no, f.bank_code, Path(f.path))
            for f in repository.files_of(session, batch.id, ("sent",))
        ]
    report = RunReport(batch_no=batch.batch_no)
    for file_no, bank_code, path in waiting:
        target = path.with_name(f"{file_no}.return.zip")
        exchange_files.download_disbursement_return(
            file_no=file_no, bank_code=bank_code, target=target
        )
        with db.transaction() as session:
            paid, failed = bankfiles.import_return(session, file_no=file_no, path=target)
        report.files_returned += 1
        report.lines_paid += paid
        report.lines_failed += failed
    return report


def import_return_upload(*, batch_no: str, file_no: str, path: Path, actor: Actor) -> RunReport:
    """Apply a return file a clerk uploads (received from the bank some other way)."""
    iam_service.authorize(actor, MANAGE)
    with db.transaction() as session:
        batch = service.get_batch(session, batch_no=batch_no, actor=actor)
        found = repository.file_by_no(session, file_no)
        if found is None or found.batch_id != batch.id:
            raise exchange_files.PackageRejected(f"发放文件 {file_no[:64]} 不属于批次 {batch_no}")
        paid, failed = bankfiles.import_return(session, file_no=file_no, path=path)
    return RunReport(batch_no=batch_no, files_returned=1, lines_paid=paid, lines_failed=failed)


def retry_due(*, actor: Actor) -> RunReport:
    """Retry the lines refused for a cancelled card whose holder's replacement card is now
    live: new lines, sent and their returns fetched (the worker's step, and the CLI)."""
    iam_service.authorize(actor, MANAGE)
    with db.transaction() as session:
        batch_ids = failures.retry_cancelled_cards(session)
        retried = len(batch_ids)
        numbers = sorted(
            {b.batch_no for i in batch_ids if (b := repository.batch_by_id(session, i)) is not None}
            | set(repository.batches_with_open_files(session))
        )
    report = RunReport(batch_no=None, lines_retried=retried)
    for number in numbers:
        try:
            _merge(report, send_batch(batch_no=number, actor=actor))
            _merge(report, fetch_returns(batch_no=number, actor=actor))
        except (PeerUnavailable, PeerRefused, PackageRejected) as exc:
            # One bank out of reach holds back its own files only; the next run tries again.
            report.problems.append(f"批次 {number}：{mask_text(exc.message)}"[:300])
    return report


def _merge(report: RunReport, other: RunReport) -> None:
    report.files_sent += other.files_sent
    report.files_returned += other.files_returned
    report.lines_paid += other.lines_paid
    report.lines_failed += other.lines_failed
