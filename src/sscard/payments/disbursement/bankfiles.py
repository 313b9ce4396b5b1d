"""Payment files to the banks and their return files (see docs/formats.md, "Benefit
payment files"): writing a batch's pending lines into one signed file per bank while
holding their money, and applying a bank's signed return file line by line."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.exchange.files import service as exchange_files
from sscard.issuance.cards import making_service
from sscard.issuance.cards import service as issuance_service
from sscard.kit.context import Actor
from sscard.payments.disbursement import repository
from sscard.payments.disbursement.errors import BatchStateConflict
from sscard.payments.disbursement.models import (
    DisbursementBatch,
    DisbursementFile,
    DisbursementLine,
)
from sscard.payments.disbursement.schemas import BatchStatus, LineStatus
from sscard.payments.disbursement.service import FUND, SUSPENSE, record
from sscard.payments.ledger import service as ledger_service
from sscard.payments.ledger.rules import TransferKind
from sscard.payments.ledger.schemas import AccountIn, TransferIn
from sscard.registry.persons import service as registry_service
from sscard.settings import get_settings

PAID, FAILED = exchange_files.RESULT_SUCCESS, exchange_files.RESULT_FAILURE


def clearing(bank_code: str) -> str:
    return f"bank-clearing:{bank_code}"


def _open_accounts(session: Session, codes: set[str]) -> None:
    for code in sorted(codes):
        ledger_service.open_account(session, data=AccountIn(code=code))


def _hold(line: DisbursementLine) -> TransferIn:
    """The pending transfer that holds a line's money while the bank pays it."""
    return TransferIn(
        ref=f"dsb:{line.id}:send",
        debit_account=SUSPENSE if line.retry_of_id else FUND,
        credit_account=clearing(line.bank_code),
        amount=line.amount_fen,
        code="benefit",
        reason=f"待遇发放 {line.kind} {line.period}",
        kind=TransferKind.pending,
    )


def _file_row(session: Session, line: DisbursementLine) -> dict[str, str]:
    card = issuance_service.card_by_id(session, card_id=line.card_id)
    person = registry_service.get_person_by_id(session, person_id=line.person_id)
    return {
        "LINE_ID": str(line.id),
        "AAZ500": line.card_number,
        "AAC003": registry_service.reveal_fields(session, person).name,
        "BANK_CODE": line.bank_code,
        "BANK_ACCOUNT": making_service.bank_account(session, card=card) or "",
        "AMOUNT_FEN": str(line.amount_fen),
        "BENEFIT_KIND": line.kind,
        "PERIOD": line.period,
    }


def _write_file(
    session: Session, batch: DisbursementBatch, bank_code: str, lines: list[DisbursementLine]
) -> DisbursementFile:
    file_no = f"{batch.batch_no}-{repository.file_count(session, batch.id) + 1:02d}"
    path = get_settings().data_dir / "disbursement" / batch.batch_no / f"{file_no}.zip"
    total = sum(x.amount_fen for x in lines)
    with exchange_files.disbursement_writer(
        path=path, file_no=file_no, bank_code=bank_code, total_fen=total
    ) as writer:
        for line in lines:
            writer.add(_file_row(session, line))
        exchange_files.finish_package(session, writer=writer)
    row = DisbursementFile(
        file_no=file_no,
        batch_id=batch.id,
        bank_code=bank_code,
        status="prepared",
        path=str(path),
        line_count=len(lines),
        total_fen=total,
        paid_count=0,
        failed_count=0,
        created_at=utcnow(),
    )
    repository.add(session, [row])
    return row


def prepare_files(session: Session, *, batch: DisbursementBatch, actor: Actor) -> list[str]:
    """Write a payment file per bank of the batch's pending lines and hold their money."""
    if batch.status == BatchStatus.closed.value:
        raise BatchStateConflict(f"发放批次 {batch.batch_no} 已办结，不能再发送")
    by_bank: dict[str, list[DisbursementLine]] = defaultdict(list)
    for line in repository.pending_lines(session, batch.id):
        by_bank[line.bank_code].append(line)
    _open_accounts(session, {FUND, SUSPENSE} | {clearing(b) for b in by_bank})
    made = []
    for bank_code, lines in sorted(by_bank.items()):
        row = _write_file(session, batch, bank_code, lines)
        ledger_service.post_transfers(session, transfers=[_hold(x) for x in lines])
        for line in lines:
            line.status, line.file_id, line.updated_at = LineStatus.sent.value, row.id, utcnow()
        made.append(row.file_no)
        record(session, "prepare", row.file_no, bank_code=bank_code, lines=len(lines))
    if made:
        batch.status, batch.updated_at = BatchStatus.sent.value, utcnow()
    return made


def mark_sent(session: Session, *, file_no: str) -> None:
    """The bank has the file."""
    row = repository.file_by_no(session, file_no, lock=True)
    if row is not None and row.status == "prepared":
        row.status, row.sent_at = "sent", utcnow()
        record(session, "send", file_no, bank_code=row.bank_code)


# ---- return files -----------------------------------------------------------------------


def _paid(line: DisbursementLine) -> list[TransferIn]:
    hold = _hold(line)
    return [
        TransferIn(
            ref=f"dsb:{line.id}:paid",
            debit_account=hold.debit_account,
            credit_account=hold.credit_account,
            amount=line.amount_fen,
            code="benefit",
            reason="银行回盘：已到账",
            kind=TransferKind.post_pending,
            pending_ref=hold.ref,
        )
    ]


def _failed(line: DisbursementLine) -> list[TransferIn]:
    hold = _hold(line)
    void = TransferIn(
        ref=f"dsb:{line.id}:void",
        debit_account=hold.debit_account,
        credit_account=hold.credit_account,
        amount=line.amount_fen,
        code="benefit",
        reason="银行回盘：发放失败",
        kind=TransferKind.void_pending,
        pending_ref=hold.ref,
    )
    if line.retry_of_id:
        return [void]
    park = TransferIn(
        ref=f"dsb:{line.id}:susp",
        debit_account=FUND,
        credit_account=SUSPENSE,
        amount=line.amount_fen,
        code="benefit",
        reason="发放失败，资金挂账待处理",
    )
    return [void, park]


def _checked_rows(
    package: exchange_files.Package, lines: dict[int, DisbursementLine], file_no: str
) -> list[tuple[DisbursementLine, exchange_files.PackageRow]]:
    """Every row matched to a line of the file, or the whole return refused."""
    out = []
    for row in package.rows():
        line = lines.get(int(row["LINE_ID"])) if row["LINE_ID"].isdigit() else None
        if line is None or str(line.amount_fen) != row["AMOUNT_FEN"]:
            raise exchange_files.PackageRejected(
                f"回盘文件第 {row.line} 行与发放文件 {file_no} 的明细不符（明细号或金额）"
            )
        if row["RESULT"] not in (PAID, FAILED):
            raise exchange_files.PackageRejected(f"回盘文件第 {row.line} 行的处理结果无效")
        out.append((line, row))
    if len(out) != len(lines):
        raise exchange_files.PackageRejected(
            f"回盘文件有 {len(out)} 行，发放文件 {file_no} 有 {len(lines)} 行"
        )
    return out


def import_return(session: Session, *, file_no: str, path: Path) -> tuple[int, int]:
    """Apply a bank's return file: post the paid lines, park the failed ones in suspense.
    A file already applied changes nothing. (paid, failed)."""
    row = repository.file_by_no(session, file_no, lock=True)
    if row is None or row.status == "returned":
        return 0, 0
    with exchange_files.open_disbursement_return(
        session, path=path, bank_code=row.bank_code
    ) as package:
        if package.batch_no != file_no:
            raise exchange_files.PackageRejected(
                f"回盘文件属于 {package.batch_no[:64]}，不是 {file_no}"
            )
        matched = _checked_rows(package, repository.lines_of_file(session, row.id), file_no)
    transfers: list[TransferIn] = []
    for line, result in matched:
        if line.status != LineStatus.sent.value:
            continue
        paid = result["RESULT"] == PAID
        transfers += _paid(line) if paid else _failed(line)
        line.status = (LineStatus.paid if paid else LineStatus.failed).value
        line.fail_code = None if paid else result["FAIL_CODE"][:32] or "unknown"
        line.fail_reason = None if paid else result["FAIL_REASON"][:200] or "银行未说明原因"
        line.updated_at = utcnow()
    if transfers:
        ledger_service.post_transfers(session, transfers=transfers)
    row.paid_count = sum(1 for line, _ in matched if line.status == LineStatus.paid.value)
    row.failed_count = len(matched) - row.paid_count
    row.status, row.returned_at = "returned", utcnow()
    record(session, "return", file_no, paid=row.paid_count, failed=row.failed_count)
    settle_status(session, batch_id=row.batch_id)
    return row.paid_count, row.failed_count


def settle_status(session: Session, *, batch_id: int) -> None:
    """The batch's status from its files and lines (returned, closed)."""
    batch = repository.batch_by_id(session, batch_id)
    if batch is None or repository.files_of(session, batch.id, ("prepared", "sent")):
        return
    sums = repository.totals(session, batch.id)
    open_lines = repository.lines(
        session, batch_id=batch.id, status="pending", region_prefix="", offset=0, limit=1
    )[1]
    done = sums["failed_lines"] == 0 and open_lines == 0
    status = BatchStatus.closed if done else BatchStatus.returned
    if batch.status != status.value and batch.status != BatchStatus.validated.value:
        batch.status, batch.updated_at = status.value, utcnow()
