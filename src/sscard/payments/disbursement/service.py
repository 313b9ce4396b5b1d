"""Benefit batches: import a file checked whole, read batches and lines, the invariant.

A file is checked row by row against the registry (the person exists, in the operator's
region, the name matches, not deceased) and the cards (a live card with a bank account);
a file with any bad row is refused as a whole, naming every bad row (up to 50) with its
row number and reason, and nothing is stored. Sending, returns and failures are in
:mod:`.bankfiles`, :mod:`.failures` and :mod:`.dispatch`.

Money (ledger references ``dsb:<line id>:<step>``): sending holds each line's amount as a
pending transfer ``benefit-fund`` (a retry: ``suspense``) -> ``bank-clearing:<bank>``; a paid
line posts it; a failed line voids it and, the first time, moves the amount
``benefit-fund`` -> ``suspense``; a line resolved by hand moves it back to the fund. So at
every moment: money out of the fund = money the banks confirmed + money in suspense.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from sscard.db import CHINA_TZ, utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.iam import service as iam_service
from sscard.issuance.cards import service as issuance_service
from sscard.kit import access
from sscard.kit.context import Actor
from sscard.payments.disbursement import intake, repository
from sscard.payments.disbursement.errors import BatchNotFound, DuplicateFile, LineNotFound
from sscard.payments.disbursement.intake import KINDS, BenefitRow
from sscard.payments.disbursement.models import (
    DisbursementBatch,
    DisbursementFile,
    DisbursementLine,
)
from sscard.payments.disbursement.schemas import (
    BATCH_STATUS_NAMES,
    LINE_STATUS_NAMES,
    BatchFilter,
    BatchOut,
    BatchStatus,
    FileOut,
    InvariantReport,
    LineFilter,
    LineOut,
    LineStatus,
    Totals,
)
from sscard.payments.ledger import service as ledger_service
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.errors import PersonNotFound
from sscard.settings import get_settings

REF_PREFIX = "dsb:"
FUND, SUSPENSE = "benefit-fund", "suspense"


def record(session: Session, action: str, subject: str, **detail: Any) -> None:
    """Write a change of a batch or line to the audit log."""
    access.record(
        session,
        access.AccessRecord(
            action=f"payments.disbursement.{action}",
            subject_type="disbursement",
            subject_id=subject,
            subject_display=subject,
            detail=detail,
        ),
    )


# ---- import -----------------------------------------------------------------------------


def _checked_line(
    session: Session, row: BenefitRow, actor: Actor
) -> tuple[DisbursementLine | None, list[str]]:
    try:
        person = registry_service.get_person(session, id_number=row.id_number, actor=actor)
    except PersonNotFound:
        return None, ["社会保障号码在本地区人员库中不存在"]
    problems = []
    if registry_service.reveal_fields(session, person).name != registry_service.canonical_name(
        row.name
    ):
        problems.append("姓名与人员库登记的不符")
    if person.status == "deceased":
        problems.append("该人员已登记死亡，不能发放")
    card = issuance_service.live_card(session, person_id=person.id)
    if card is None or card.bank_account_masked is None or not card.card_number:
        problems.append("该人员没有有效的、已开通银行账户的社会保障卡")
    if problems or card is None:
        return None, problems
    now = utcnow()
    return DisbursementLine(
        row_no=row.row_no,
        person_id=person.id,
        id_number_masked=person.id_number_masked,
        name_masked=person.name_masked,
        kind=row.kind,
        period=row.period,
        card_id=card.id,
        card_number=card.card_number or "",
        bank_code=card.bank_code,
        bank_account_masked=card.bank_account_masked or "",
        amount_fen=row.amount_fen,
        status=LineStatus.pending.value,
        created_at=now,
        updated_at=now,
    ), []


def _checked_lines(
    session: Session, path: Path, actor: Actor
) -> tuple[list[DisbursementLine], list[FieldProblem], int]:
    lines: list[DisbursementLine] = []
    problems: list[FieldProblem] = []
    bad = 0
    first: BenefitRow | None = None
    seen: dict[str, int] = {}
    for row_no, row, reasons in intake.read_file(path):
        if row is not None:
            first = first or row
            if (row.kind, row.period) != (first.kind, first.period):
                reasons = [*reasons, "待遇类型和期别应与第 1 行相同（一个文件一个批次）"]
            if row.id_number in seen:
                reasons = [*reasons, f"与第 {seen[row.id_number]} 行是同一人"]
            seen.setdefault(row.id_number, row_no)
        if row is not None and not reasons:
            line, reasons = _checked_line(session, row, actor)
            if line is not None:
                lines.append(line)
        if reasons:
            bad += 1
            if len(problems) < intake.MAX_PROBLEMS:
                problems.append(intake.problem(row_no, "；".join(reasons)))
    if first is not None and lines:
        paid = repository.already_paid(
            session, {x.person_id for x in lines}, first.kind, first.period
        )
        for line in (x for x in lines if x.person_id in paid):
            bad += 1
            reason = f"该人员 {first.period} 期的{KINDS[first.kind]}已在其他批次发放"
            problems.append(intake.problem(line.row_no, reason))
    return lines, problems, bad


def _new_batch_no(session: Session) -> str:
    prefix = "D" + datetime.now(CHINA_TZ).strftime("%Y%m%d")
    return f"{prefix}{repository.batch_numbers_like(session, prefix) + 1:04d}"


def import_file(
    session: Session, *, path: Path, source_name: str, actor: Actor
) -> DisbursementBatch:
    """Import a benefit file as a new batch, all its rows or none (see the module overview)."""
    digest = intake.file_digest(path)
    found = repository.batch_by_digest(session, digest)
    if found is not None:
        raise DuplicateFile(f"该文件已导入为批次 {found.batch_no}，不能重复导入")
    lines, problems, bad = _checked_lines(session, path, actor)
    if bad:
        raise ValidationFailed(
            sorted(problems, key=lambda p: int(p.field.strip("第行"))),
            f"文件中有 {bad} 行不能发放，整个文件未导入；请更正后重新导入",
        )
    if not lines:
        raise ValidationFailed([FieldProblem("file", "文件中没有发放明细")])
    now = utcnow()
    batch = DisbursementBatch(
        batch_no=_new_batch_no(session),
        kind=lines[0].kind,
        period=lines[0].period,
        source_name=source_name[:200],
        source_sm3=digest,
        status=BatchStatus.validated.value,
        region_code=actor.region_code or get_settings().region_code,
        institution_code=actor.institution_code or "",
        line_count=len(lines),
        total_fen=sum(x.amount_fen for x in lines),
        created_by=actor.id,
        created_at=now,
        updated_at=now,
    )
    repository.add(session, [batch])
    for line in lines:
        line.batch_id = batch.id
    repository.add(session, lines)
    record(session, "import", batch.batch_no, lines=len(lines), total_fen=batch.total_fen)
    return batch


# ---- reading ----------------------------------------------------------------------------


def get_batch(
    session: Session, *, batch_no: str, actor: Actor, lock: bool = False
) -> DisbursementBatch:
    """The batch with this number in the actor's region, or BatchNotFound."""
    batch = repository.batch_by_no(session, batch_no.strip().upper(), lock=lock)
    if batch is None or not batch.region_code.startswith(iam_service.region_scope(actor)):
        raise BatchNotFound(f"发放批次 {batch_no[:20]} 不存在")
    return batch


def get_line(
    session: Session, *, line_id: int, actor: Actor, lock: bool = False
) -> DisbursementLine:
    """The line with this id, of a batch in the actor's region, or LineNotFound."""
    line = repository.line(session, line_id, lock=lock)
    batch = repository.batch_by_id(session, line.batch_id) if line is not None else None
    if (
        line is None
        or batch is None
        or not batch.region_code.startswith(iam_service.region_scope(actor))
    ):
        raise LineNotFound(f"发放明细 {line_id} 不存在")
    return line


def get_batch_no(session: Session, *, line: DisbursementLine) -> str:
    found = repository.batch_by_id(session, line.batch_id)
    return found.batch_no if found is not None else ""


def totals(session: Session, *, batch: DisbursementBatch | None) -> Totals:
    sums = repository.totals(session, batch.id if batch is not None else None)
    sums.pop("in_flight_fen")
    return Totals(**sums)


def batch_out(session: Session, batch: DisbursementBatch) -> BatchOut:
    status = BatchStatus(batch.status)
    return BatchOut(
        batch_no=batch.batch_no,
        kind=batch.kind,
        kind_name=KINDS.get(batch.kind, batch.kind),
        period=batch.period,
        source_name=batch.source_name,
        status=status,
        status_name=BATCH_STATUS_NAMES[status],
        region_code=batch.region_code,
        institution_code=batch.institution_code,
        created_by=batch.created_by,
        created_at=batch.created_at,
        updated_at=batch.updated_at,
        totals=totals(session, batch=batch),
    )


def line_out(line: DisbursementLine, batch_no: str) -> LineOut:
    status = LineStatus(line.status)
    return LineOut(
        id=line.id,
        batch_no=batch_no,
        row_no=line.row_no,
        id_number=line.id_number_masked,
        name=line.name_masked,
        kind=line.kind,
        period=line.period,
        card_number=line.card_number,
        bank_code=line.bank_code,
        bank_account=line.bank_account_masked,
        amount_fen=line.amount_fen,
        status=status,
        status_name=LINE_STATUS_NAMES[status],
        fail_code=line.fail_code,
        fail_reason=line.fail_reason,
        retry_of=line.retry_of_id,
        note=line.note,
        updated_at=line.updated_at,
    )


def file_out(row: DisbursementFile) -> FileOut:
    return FileOut.model_validate(row, from_attributes=True)


def list_batches(
    session: Session, *, actor: Actor, status: BatchFilter, page: int, page_size: int
) -> tuple[list[BatchOut], int]:
    """Batches of the actor's region, newest first, by status (or all)."""
    rows, total = repository.batches(
        session,
        status=None if status is BatchFilter.all else status.value,
        region_prefix=iam_service.region_scope(actor),
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    return [batch_out(session, b) for b in rows], total


def list_lines(
    session: Session,
    *,
    actor: Actor,
    batch_no: str | None,
    status: LineFilter,
    page: int,
    page_size: int,
) -> tuple[list[LineOut], int]:
    """Lines of one batch (or every batch of the region), by status (or all)."""
    batch = get_batch(session, batch_no=batch_no, actor=actor) if batch_no else None
    rows, total = repository.lines(
        session,
        batch_id=batch.id if batch is not None else None,
        status=None if status is LineFilter.all else status.value,
        region_prefix=iam_service.region_scope(actor),
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    numbers = {batch.id: batch.batch_no} if batch is not None else {}
    out = []
    for row in rows:
        if row.batch_id not in numbers:
            found = repository.batch_by_id(session, row.batch_id)
            numbers[row.batch_id] = found.batch_no if found is not None else ""
        out.append(line_out(row, numbers[row.batch_id]))
    return out, total


def list_files(session: Session, *, batch_no: str, actor: Actor) -> list[FileOut]:
    """The payment files of a batch, one per bank and sending."""
    batch = get_batch(session, batch_no=batch_no, actor=actor)
    return [file_out(f) for f in repository.files_of(session, batch.id)]


# ---- the invariant ----------------------------------------------------------------------


def check_invariant(session: Session) -> InvariantReport:
    """Money out of the benefit fund = money the banks confirmed + money in suspense, read
    from the ledger's disbursement transfers, and the same sums read from the lines."""
    out = confirmed = suspense = 0
    for debit, credit, amount in ledger_service.posted_flows(session, ref_prefix=REF_PREFIX):
        out += amount if debit == FUND else -amount if credit == FUND else 0
        suspense += amount if credit == SUSPENSE else -amount if debit == SUSPENSE else 0
        confirmed += amount if credit.startswith("bank-clearing:") else 0
    sums = repository.totals(session, None)
    problems = []
    if out != confirmed + suspense:
        problems.append(f"发出 {out} 分 ≠ 银行确认 {confirmed} 分 + 挂账 {suspense} 分")
    if confirmed != sums["paid_fen"]:
        problems.append(f"总账银行确认 {confirmed} 分 ≠ 已到账明细 {sums['paid_fen']} 分")
    if suspense != sums["in_suspense_fen"]:
        problems.append(f"总账挂账 {suspense} 分 ≠ 挂账明细 {sums['in_suspense_fen']} 分")
    return InvariantReport(
        ok=not problems,
        out_fen=out,
        confirmed_fen=confirmed,
        suspense_fen=suspense,
        in_flight_fen=sums["in_flight_fen"],
        paid_lines_fen=sums["paid_fen"],
        suspense_lines_fen=sums["in_suspense_fen"],
        reason="；".join(problems) or None,
    )
