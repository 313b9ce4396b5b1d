"""Batches as clerks see them (list, progress, package, rejects) and card-making failures
(制卡失败): resolved with a note, or resubmitted.

The long runs (export, send and fetch, result import) are the worker modules ``export``,
``province`` and ``result_import``; see the package docstring for the whole cycle.
"""

from __future__ import annotations

import csv
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from sscard import db
from sscard.db import utcnow
from sscard.errors import SSCardError
from sscard.exchange.files import service as exchange_files
from sscard.issuance.batches import repository
from sscard.issuance.batches.errors import (
    BatchNotFound,
    BatchStateConflict,
    FailureNotFound,
    FailureStateConflict,
)
from sscard.issuance.batches.models import Batch, Failure
from sscard.issuance.batches.schemas import (
    BatchOut,
    FailureOut,
    PendingOut,
    PendingPage,
    RejectOut,
)
from sscard.issuance.cards import service as cards_service
from sscard.issuance.cards import stats_service
from sscard.issuance.lifecycle import Action, Status
from sscard.kit import access
from sscard.kit.access import AccessRecord
from sscard.kit.context import Actor
from sscard.registry.persons import service as registry_service
from sscard.settings import get_settings

PROVINCE = "province"


DEFAULT_CHUNK = 1000


PACKAGE_NAME = "account-opening.zip"


RESULT_NAME = "result.zip"


HELD_NAME = "export-held.csv"


REJECTS_NAME = "result-rejects.csv"


HELD_HEADER = ("card_id", "card_number", "id_number", "reason")


REJECTS_HEADER = ("line", "seq", "card_number", "id_number", "reason")


MAX_SHOWN = 200


class BatchStatus(StrEnum):
    exporting = "exporting"
    exported = "exported"
    sent = "sent"
    making = "making"
    result_ready = "result_ready"
    importing = "importing"
    result_imported = "result_imported"


STATUS_NAMES = {
    BatchStatus.exporting: "导出中",
    BatchStatus.exported: "已导出待报送",
    BatchStatus.sent: "已报送省卡管",
    BatchStatus.making: "制卡中",
    BatchStatus.result_ready: "结果待导入",
    BatchStatus.importing: "结果导入中",
    BatchStatus.result_imported: "结果已导入",
}


SENDABLE = {BatchStatus.exported, BatchStatus.sent}


IMPORTABLE = {
    BatchStatus.sent,
    BatchStatus.making,
    BatchStatus.result_ready,
    BatchStatus.importing,
    BatchStatus.result_imported,
}


IN_MAKING = (Status.submitted.value, Status.making.value)


def batch_dir(batch_no: str) -> Path:
    return get_settings().data_dir / "batches" / batch_no


def batch_row(session: Session, batch_no: str, *, lock: bool = False) -> Batch:
    """The batch by number (row-locked with ``lock``), or BatchNotFound."""
    found = repository.batch_by_no(session, batch_no, lock=lock)
    if found is None:
        raise BatchNotFound(f"批次 {batch_no[:32]} 不存在")
    return found


def batch_out(session: Session, batch: Batch) -> BatchOut:
    return BatchOut(
        batch_no=batch.batch_no,
        region_code=batch.region_code,
        status=batch.status,
        status_name=status_name(batch.status),
        card_count=batch.card_count,
        made_count=batch.made_count,
        failed_count=batch.failed_count,
        rejected_count=batch.rejected_count,
        result_rows=batch.result_rows,
        result_next_line=batch.result_next_line,
        progress=stats_service.making_progress(session, batch_id=batch.id),
        export_digest=batch.export_digest,
        result_digest=batch.result_digest,
        error=batch.error,
        created_by=batch.created_by,
        created_at=batch.created_at,
        exported_at=batch.exported_at,
        result_imported_at=batch.result_imported_at,
    )


def list_batches(session: Session, *, limit: int = 50) -> list[BatchOut]:
    """The newest batches with their progress."""
    return [batch_out(session, b) for b in repository.batches(session, limit=limit)]


def get_batch(session: Session, *, batch_no: str) -> BatchOut:
    """One batch with its progress (cards per status)."""
    return batch_out(session, batch_row(session, batch_no))


def package_path(session: Session, *, batch_no: str) -> Path:
    """The batch's exported package (to download or send by hand)."""
    batch = batch_row(session, batch_no)
    if batch.export_path is None or not Path(batch.export_path).exists():
        raise BatchStateConflict(f"批次 {batch_no} 尚未导出完成")
    return Path(batch.export_path)


def rejects_of(session: Session, *, batch_no: str, limit: int = MAX_SHOWN) -> list[RejectOut]:
    """The result rows of the batch that could not be applied (first ``limit``).

    Only the committed ones: an import writes a chunk's rejects just before the chunk
    commits, so after a crash the file may hold a few more, dropped when it resumes.
    """
    batch = batch_row(session, batch_no)
    path = batch_dir(batch_no) / REJECTS_NAME
    return read_rejects(path, min(limit, batch.rejected_count))


def read_rejects(path: Path, limit: int) -> list[RejectOut]:
    if not path.exists():
        return []
    found: list[RejectOut] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        for row in reader:
            if len(found) >= limit:
                break
            line, seq, number, id_number, reason = (row + [""] * 5)[:5]
            found.append(
                RejectOut(
                    line=int(line or 0),
                    seq=seq,
                    card_number=number,
                    id_number=id_number,
                    reason=reason,
                )
            )
    return found


def record(session: Session, action: str, batch_no: str, **detail: Any) -> None:
    access.record(
        session,
        AccessRecord(
            action=action,
            subject_type="batch",
            subject_id=batch_no,
            subject_display=batch_no,
            detail=detail,
        ),
    )


def remember_error(batch_no: str, exc: BaseException) -> None:
    """Keep why a run stopped on the batch.

    Unit of work: its own transaction, since the run's own one has rolled back.
    """
    message = exc.message if isinstance(exc, SSCardError) else "处理中断，请重试"
    with db.transaction() as session:
        batch = repository.batch_by_no(session, batch_no)
        if batch is not None:
            batch.error = message[:500]


def status_name(status: str) -> str:
    try:
        return STATUS_NAMES[BatchStatus(status)]
    except ValueError:
        return status


def list_failures(
    session: Session,
    *,
    batch_no: str | None = None,
    employer_id: int | None = None,
    status: str | None = "open",
    limit: int = 200,
    offset: int = 0,
) -> list[FailureOut]:
    """Card-making failures, newest first: of a batch, of an employer's staff, by status."""
    found = repository.failures(
        session,
        batch_id=batch_row(session, batch_no).id if batch_no else None,
        employer_id=employer_id,
        status=status,
        limit=limit,
        offset=offset,
    )
    return [failure_out(session, f) for f in found]


def failure_out(session: Session, failure: Failure) -> FailureOut:
    card = cards_service.card_by_id(session, card_id=failure.card_id)
    id_masked, name_masked = registry_service.person_display(session, person_id=card.person_id)
    batch = repository.batch(session, failure.batch_id) if failure.batch_id else None
    person = registry_service.get_person_by_id(session, person_id=card.person_id)
    return FailureOut(
        id=failure.id,
        batch_no=batch.batch_no if batch else None,
        card_number=card.card_number,
        holder_id_number=id_masked,
        holder_name=name_masked,
        employer=person.employer.name if person.employer else None,
        stage=failure.stage,
        stage_name=exchange_files.FAILURE_STAGES.get(failure.stage, failure.stage),
        reason=failure.reason,
        status=failure.status,
        resolution=failure.resolution,
        resolved_by=failure.resolved_by,
        created_at=failure.created_at,
        resolved_at=failure.resolved_at,
    )


def _failure(session: Session, failure_id: int) -> Failure:
    found = repository.failure(session, failure_id)
    if found is None:
        raise FailureNotFound(f"制卡失败记录 {failure_id} 不存在")
    return found


def resolve_failure(session: Session, *, failure_id: int, note: str, actor: Actor) -> Failure:
    """Close a failure with a note, without making the card again."""
    failure = _failure(session, failure_id)
    if failure.status != "open":
        raise FailureStateConflict(f"制卡失败记录 {failure_id} 已处理，不能重复处理")
    failure.status, failure.resolution = "closed", note
    failure.resolved_by, failure.resolved_at = actor.id[:64], utcnow()
    card = cards_service.card_by_id(session, card_id=failure.card_id)
    cards_service.note(
        session,
        card=card,
        action="failure_resolved",
        actor=actor,
        detail={"failure_id": failure.id, "note": note},
    )
    session.flush()
    return failure


def reopen_failure(session: Session, *, failure_id: int, note: str, actor: Actor) -> Failure:
    """Open a handled failure again (重新打开), with the reason; a resubmitted one cannot be,
    its card has gone on to the next batch."""
    failure = _failure(session, failure_id)
    if failure.status != "closed":
        raise FailureStateConflict(
            f"制卡失败记录 {failure_id} 不是“已处理”状态，不能重新打开"
            if failure.status == "open"
            else f"制卡失败记录 {failure_id} 已重新报送，卡片已进入下一批次，不能重新打开"
        )
    card = cards_service.card_by_id(session, card_id=failure.card_id)
    cards_service.note(
        session,
        card=card,
        action="failure_reopened",
        actor=actor,
        detail={"failure_id": failure.id, "note": note, "was": failure.resolution},
    )
    failure.status, failure.resolution = "open", None
    failure.resolved_by, failure.resolved_at = None, None
    session.flush()
    return failure


def failure_detail(session: Session, *, failure_id: int) -> FailureOut:
    """One card-making failure as the lists show it."""
    return failure_out(session, _failure(session, failure_id))


def resubmit_failure(session: Session, *, failure_id: int, note: str, actor: Actor) -> Failure:
    """Send the card back to ``applied`` (same card number) for the next batch."""
    failure = _failure(session, failure_id)
    if failure.status == "resubmitted":
        raise FailureStateConflict(f"制卡失败记录 {failure_id} 已重新报送")
    card = cards_service.card_by_id(session, card_id=failure.card_id)
    live = cards_service.live_card(session, person_id=card.person_id)
    if live is not None and live.id != card.id:
        raise FailureStateConflict("持卡人已有其他有效的卡或申请，不能重新报送此卡")
    cards_service.transition(
        session,
        card=card,
        action=Action.resubmit,
        actor=actor,
        detail={"failure_id": failure.id, "note": note},
    )
    failure.status, failure.resolution = "resubmitted", note
    failure.resolved_by, failure.resolved_at = actor.id[:64], utcnow()
    session.flush()
    return failure


def pending_applications(
    session: Session, *, actor: Actor, page: int = 1, page_size: int = 50
) -> PendingPage:
    """Batch-mode applications waiting for the next batch (待制卡申请): those of the city the
    next export takes (the platform's region), oldest first, the holder masked. Reading them
    needs ``issuance.batch``, as exporting does."""
    cards, total = repository.pending_cards(
        session,
        region_code=get_settings().region_code,
        limit=page_size,
        offset=(page - 1) * page_size,
    )
    items = []
    for card in cards:
        id_masked, name_masked = registry_service.person_display(session, person_id=card.person_id)
        items.append(
            PendingOut(
                card_id=card.id,
                card_number=card.card_number,
                holder_name=name_masked,
                holder_id_number=id_masked,
                bank_code=card.bank_code,
                pickup_place=card.pickup_place,
                applied_at=card.applied_at,
                applied_by=card.applied_by,
            )
        )
    return PendingPage(items=items, total=total, page=page, page_size=page_size)
