"""Batch card making (批量制卡): export, send, fetch, import the result, handle failures.

Design overview
===============

A batch (``issuance_batch``) moves through::

    exporting ─> exported ─send─> sent ─fetch─> making ─fetch─> result_ready ─> importing
                                                                                   │
                                                                       result_imported

**Export** (``sscard batch export``) works in two phases, every chunk in its own
transaction, so memory stays bounded for any number of applications:

1. *take*: batch-mode cards in ``applied`` of this city, oldest first. A card whose holder
   is no longer alive, has no photo, or whose codes the province cannot receive (gender,
   ethnicity, document type through the code translation tables; the card type through
   the entity mappings) is *held*: it stays ``applied``, is listed in ``export-held.csv``
   and goes with a later batch once fixed. The others get card numbers in bulk (开户放号;
   a resubmitted card keeps its number), move to ``submitted`` and join the batch.
2. *write*: the batch's cards, by card number, become the account-opening package
   (批量开户文件, ``docs/formats.md``) under ``<data_dir>/batches/<batch_no>/``: persons
   decrypted a chunk at a time, photos read through the registry (each read audited) and
   streamed into the ZIP. Employer and community codes go out in the province's coding;
   codes without a mapping go out empty and join the unresolved-code queue.

An export that stops in phase 2 leaves the batch ``exporting``; the next export finishes
that batch first (phase 2 only) before it starts a new one.

**Send** uploads the package to the province (optionally SM4-GCM wrapped); once the
province has accepted it, the cards move to ``making``. **Fetch** polls the province and,
when the result is ready, downloads and checks it.

**Import** (``sscard batch import-result``) checks the whole result package first
(signature, digests, count), then applies it in chunks. Each chunk is one transaction:
its cards (made, or failed with a :class:`~sscard.issuance.models.Failure`), its boxes,
the batch's counters and ``result_next_line`` commit together. So the import can be killed
at any point and run again: it resumes at ``result_next_line``; nothing is lost, applied
twice or half applied. The batch remembers the result file's SM3 (``result_digest``):
importing the same file again changes nothing. A row is also idempotent on its own (a
card already made with the same card identification code, a failure already recorded for
the card in this batch), so an overlapping second file cannot apply a row twice either.
Rows that cannot be applied (unknown card number, a card of another batch or in another
status, a card identification code that fails its check or names another region) are
listed in ``result-rejects.csv`` and counted; the import goes on.

**Failures** (制卡失败) are resolved with a note, or resubmitted: the card goes back to
``applied`` with the same card number, for the next batch.
"""

from __future__ import annotations

import csv
import fcntl
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import column, func, select, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sscard import db
from sscard.db import utcnow
from sscard.errors import Conflict, SSCardError
from sscard.exchange import service as exchange_service
from sscard.iam import service as iam_service
from sscard.issuance import lifecycle, repository, service
from sscard.issuance.errors import BatchNotFound, FailureNotFound
from sscard.issuance.lifecycle import Action, Status
from sscard.issuance.models import Batch, Box, Card, Failure
from sscard.kit import access
from sscard.kit.access import AccessRecord
from sscard.kit.context import Actor
from sscard.kit.masking import mask_id_number
from sscard.registry.bulk import service as registry_bulk
from sscard.registry.persons import service as registry_service
from sscard.registry.photos import service as registry_photos
from sscard.registry.units import service as registry_units
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
    BatchStatus.exporting: "导出中", BatchStatus.exported: "已导出待报送",
    BatchStatus.sent: "已报送省卡管", BatchStatus.making: "制卡中",
    BatchStatus.result_ready: "结果待导入", BatchStatus.importing: "结果导入中",
    BatchStatus.result_imported: "结果已导入",
}  # fmt: skip
SENDABLE = {BatchStatus.exported, BatchStatus.sent}
IMPORTABLE = {BatchStatus.sent, BatchStatus.making, BatchStatus.result_ready,
              BatchStatus.importing, BatchStatus.result_imported}  # fmt: skip
IN_MAKING = (Status.submitted.value, Status.making.value)


# ---- errors ----------------------------------------------------------------------------


class BatchStateConflict(Conflict):
    code = "batch_state_conflict"


class NothingToExport(Conflict):
    code = "nothing_to_export"


class ResultImportBusy(Conflict):
    code = "result_import_busy"


class FailureStateConflict(Conflict):
    code = "failure_state_conflict"


# ---- input and output ------------------------------------------------------------------

NoteText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int | None = Field(default=None, ge=1, le=1_000_000)


class SendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    encrypt: bool = False


class FailureNoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: NoteText


class BatchOut(BaseModel):
    batch_no: str
    region_code: str
    status: str
    status_name: str
    card_count: int
    made_count: int
    failed_count: int
    rejected_count: int
    result_rows: int
    result_next_line: int
    progress: dict[str, int]
    """Cards of the batch per status (a resubmitted card counts in its new batch)."""
    export_digest: str | None
    result_digest: str | None
    error: str | None
    created_by: str
    created_at: datetime
    exported_at: datetime | None
    result_imported_at: datetime | None


class HeldCard(BaseModel):
    card_number: str | None
    id_number: str
    reason: str


class ExportReport(BaseModel):
    batch: BatchOut
    resumed: bool
    """True when this run finished an export that had stopped, instead of starting one."""
    held: int
    held_cards: list[HeldCard]
    unresolved_codes: int


class FetchReport(BaseModel):
    batch: BatchOut
    ready: bool
    province_status: str
    province_detail: str


class RejectOut(BaseModel):
    line: int
    seq: str
    card_number: str
    id_number: str
    reason: str


class ImportReport(BaseModel):
    batch: BatchOut
    rows: int
    made: int
    failed: int
    rejected: int
    unchanged: int
    already_imported: bool
    resumed_at: int
    rejects: list[RejectOut]


class FailureOut(BaseModel):
    id: int
    batch_no: str | None
    card_number: str | None
    holder_id_number: str
    holder_name: str
    employer: str | None
    stage: str
    stage_name: str
    reason: str
    status: str
    resolution: str | None
    resolved_by: str | None
    created_at: datetime
    resolved_at: datetime | None


# ---- batches: reading ------------------------------------------------------------------


def batch_dir(batch_no: str) -> Path:
    return get_settings().data_dir / "batches" / batch_no


def _get(session: Session, batch_no: str, *, lock: bool = False) -> Batch:
    stmt = select(Batch).where(Batch.batch_no == batch_no)
    found = session.scalars(stmt.with_for_update() if lock else stmt).first()
    if found is None:
        raise BatchNotFound(f"批次 {batch_no[:32]} 不存在")
    return found


def batch_out(session: Session, batch: Batch) -> BatchOut:
    return BatchOut(
        batch_no=batch.batch_no, region_code=batch.region_code, status=batch.status,
        status_name=_status_name(batch.status),
        card_count=batch.card_count, made_count=batch.made_count,
        failed_count=batch.failed_count, rejected_count=batch.rejected_count,
        result_rows=batch.result_rows, result_next_line=batch.result_next_line,
        progress=repository.status_counts(session, batch.id),
        export_digest=batch.export_digest, result_digest=batch.result_digest, error=batch.error,
        created_by=batch.created_by, created_at=batch.created_at,
        exported_at=batch.exported_at, result_imported_at=batch.result_imported_at,
    )  # fmt: skip


def list_batches(session: Session, *, limit: int = 50) -> list[BatchOut]:
    """The newest batches with their progress."""
    return [batch_out(session, b) for b in repository.batches(session, limit=limit)]


def get_batch(session: Session, *, batch_no: str) -> BatchOut:
    """One batch with its progress (cards per status)."""
    return batch_out(session, _get(session, batch_no))


def package_path(session: Session, *, batch_no: str) -> Path:
    """The batch's exported package (to download or send by hand)."""
    batch = _get(session, batch_no)
    if batch.export_path is None or not Path(batch.export_path).exists():
        raise BatchStateConflict(f"批次 {batch_no} 尚未导出完成")
    return Path(batch.export_path)


def rejects_of(session: Session, *, batch_no: str, limit: int = MAX_SHOWN) -> list[RejectOut]:
    """The result rows of the batch that could not be applied (first ``limit``).

    Only the committed ones: an import writes a chunk's rejects just before the chunk
    commits, so after a crash the file may hold a few more, dropped when it resumes.
    """
    batch = _get(session, batch_no)
    path = batch_dir(batch_no) / REJECTS_NAME
    return _read_rejects(path, min(limit, batch.rejected_count))


def _read_rejects(path: Path, limit: int) -> list[RejectOut]:
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
            found.append(RejectOut(line=int(line or 0), seq=seq, card_number=number,
                                   id_number=id_number, reason=reason))  # fmt: skip
    return found


def _record(session: Session, action: str, batch_no: str, **detail: Any) -> None:
    access.record(
        session,
        AccessRecord(action=action, subject_type="batch", subject_id=batch_no,
                     subject_display=batch_no, detail=detail),
    )  # fmt: skip


def _remember_error(batch_no: str, exc: BaseException) -> None:
    """Keep why a run stopped on the batch (in a fresh transaction)."""
    message = exc.message if isinstance(exc, SSCardError) else "处理中断，请重试"
    with db.transaction() as session:
        batch = session.scalars(select(Batch).where(Batch.batch_no == batch_no)).first()
        if batch is not None:
            batch.error = message[:500]


# ---- export ----------------------------------------------------------------------------


@dataclass
class _Export:
    batch_id: int
    batch_no: str
    actor: Actor
    limit: int | None
    chunk: int
    held: list[HeldCard] = field(default_factory=list)
    held_count: int = 0
    taken: int = 0
    cursor: str = ""


def export_batch(
    *, actor: Actor, limit: int | None = None, chunk: int = DEFAULT_CHUNK
) -> ExportReport:
    """Export the applied batch-mode cards of this city as a new batch (or finish one)."""
    iam_service.authorize(actor, "issuance.batch")
    iam_service.authorize(actor, "registry.photo.read")
    with db.transaction() as session:
        unfinished = session.scalars(
            select(Batch).where(
                Batch.status == BatchStatus.exporting, Batch.region_code == _region()
            ).order_by(Batch.id)
        ).first()  # fmt: skip
        if unfinished is not None and unfinished.card_count == 0:
            session.delete(unfinished)
            session.flush()
            unfinished = None
        batch = unfinished or _new_batch(session, actor)
        run = _Export(batch.id, batch.batch_no, actor, limit, chunk)
    coding = _Coding()
    try:
        with _exporting(run.batch_no):
            if unfinished is None:
                _take_all(run, coding)
            else:
                _rewrite_package(run, coding)
    except BaseException as exc:
        _remember_error(run.batch_no, exc)
        raise
    with db.transaction() as session:
        out = batch_out(session, _get(session, run.batch_no))
    return ExportReport(batch=out, resumed=unfinished is not None, held=run.held_count,
                        held_cards=run.held, unresolved_codes=coding.new_codes)  # fmt: skip


@contextmanager
def _exporting(batch_no: str) -> Iterator[None]:
    """Hold the batch's export lock (a file lock the system drops if the process dies)."""
    directory = batch_dir(batch_no)
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".export.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchStateConflict(f"批次 {batch_no} 正在由另一个进程导出，请稍后查看") from None
        yield


def _region() -> str:
    return get_settings().region_code


def _new_batch(session: Session, actor: Actor) -> Batch:
    region, now = _region(), utcnow()
    prefix = f"{region}{now:%Y%m%d}"
    count = session.scalar(
        select(func.count()).select_from(Batch).where(Batch.batch_no.like(f"{prefix}%"))
    )
    for attempt in range(int(count or 0) + 1, int(count or 0) + 50):
        batch = Batch(
            batch_no=f"{prefix}{attempt:04d}", region_code=region,
            status=BatchStatus.exporting.value, card_count=0, made_count=0, failed_count=0,
            rejected_count=0, result_rows=0, result_next_line=0, created_by=actor.id[:64],
            created_at=now,
        )  # fmt: skip
        try:
            with session.begin_nested():
                session.add(batch)
            return batch
        except IntegrityError:
            continue
    raise BatchStateConflict("今日批次号已用尽，请稍后重试")  # pragma: no cover


def _package(run: _Export) -> exchange_service.PackageWriter:
    path = batch_dir(run.batch_no) / PACKAGE_NAME
    return exchange_service.account_opening_writer(path=path, batch_no=run.batch_no)


def _take_all(run: _Export, coding: _Coding) -> None:
    """Move applied cards into the batch and write them out, a chunk per transaction.

    The package is written as the chunks commit; if the run stops, the batch stays
    ``exporting`` with the cards committed so far, and the next export rewrites its package.
    """
    directory = batch_dir(run.batch_no)
    directory.mkdir(parents=True, exist_ok=True)
    with (
        (directory / HELD_NAME).open("w", encoding="utf-8", newline="") as held_file,
        _package(run) as writer,
    ):
        held = csv.writer(held_file)
        held.writerow(HELD_HEADER)
        while run.limit is None or run.taken < run.limit:
            size = run.chunk if run.limit is None else min(run.chunk, run.limit - run.taken)
            with db.transaction() as session:
                cards = _take_chunk(session, run, size, held)
                if cards is None:
                    break
                _write_chunk(session, writer, cards, coding)
        if run.taken == 0:
            writer.abort()
            with db.transaction() as session:
                session.delete(_get(session, run.batch_no))
            raise NothingToExport("没有可报送的批量制卡申请" + (
                f"（{run.held_count} 张申请暂缓报送，见 {HELD_NAME}）" if run.held_count else ""
            ))  # fmt: skip
        _finish(run, writer, coding)


def _candidates(session: Session, cursor: str, size: int) -> list[Card]:
    stmt = (
        select(Card)
        .where(
            Card.status == Status.applied.value, Card.mode == "batch",
            Card.region_code == _region(), Card.id > cursor,
        )
        .order_by(Card.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    )  # fmt: skip
    return list(session.scalars(stmt))


def _take_chunk(
    session: Session, run: _Export, size: int, held_out: Any
) -> list[tuple[Card, registry_bulk.PersonRecord]] | None:
    """Take up to ``size`` cards into the batch; None when none are left."""
    cards = _candidates(session, run.cursor, size)
    if not cards:
        return None
    run.cursor = cards[-1].id
    checks = _Checks.load(session, cards)
    batch = _get(session, run.batch_no, lock=True)
    accepted: list[Card] = []
    for card in cards:
        reason = checks.problem(card)
        if reason is None:
            accepted.append(card)
            continue
        record = checks.records.get(card.person_id)
        masked = mask_id_number(record.id_number) if record else ""
        held_out.writerow((card.id, card.card_number or "", masked, reason))
        run.held_count += 1
        if len(run.held) < MAX_SHOWN:
            run.held.append(HeldCard(card_number=card.card_number, id_number=masked, reason=reason))
    checks.queue_unmapped(session, run.batch_no)
    _number(session, accepted, run.actor)
    for card in accepted:
        card.batch_id = batch.id
    detail = {"batch_no": run.batch_no}
    service.transition_many(
        session, moves=[(c, detail) for c in accepted], action=Action.submit, actor=run.actor
    )
    batch.card_count += len(accepted)
    run.taken += len(accepted)
    return [(card, checks.records[card.person_id]) for card in accepted]


def _number(session: Session, cards: Sequence[Card], actor: Actor) -> None:
    """Give the cards that have none a card number, in bulk (开户放号)."""
    needing = [c for c in cards if c.card_number is None]
    if not needing:
        return
    allocated = service.allocate_numbers(session, region_code=_region(), count=len(needing))
    for card, number in zip(needing, allocated, strict=True):
        card.card_number = number
        service.note(session, card=card, action="assign_number", actor=actor,
                     detail={"card_number": number})  # fmt: skip


@dataclass
class _Checks:
    """What decides, for one chunk, whether a card can go to the province."""

    records: dict[str, registry_bulk.PersonRecord]
    statuses: dict[str, str]
    photos: set[str]
    translator: Any
    card_types: dict[str, str]
    unmapped_types: Counter[str] = field(default_factory=Counter)

    @classmethod
    def load(cls, session: Session, cards: Sequence[Card]) -> _Checks:
        person_ids = [c.person_id for c in cards]
        records = registry_bulk.stored_records(session, person_ids=person_ids)
        statuses = registry_bulk.person_statuses(session, person_ids=list(records))
        types = exchange_service.entity_codes_out(
            session, system=PROVINCE, kind="card_type", codes={str(c.generation) for c in cards}
        )
        return cls(
            records, statuses, registry_photos.photo_owners(session, person_ids=person_ids),
            exchange_service.translator(session, system=PROVINCE), types,
        )  # fmt: skip

    def problem(self, card: Card) -> str | None:
        record = self.records.get(card.person_id)
        if record is None or self.statuses.get(card.person_id) != "normal":
            return "持卡人已登记死亡或迁出（或已不在人员库中）"
        if card.person_id not in self.photos:
            return "持卡人缺少照片，请先采集照片"
        try:
            self.translator.to_external_record(_coded(record))
        except SSCardError as exc:
            return exc.message
        if str(card.generation) not in self.card_types:
            self.unmapped_types[str(card.generation)] += 1
            return f"省卡管没有卡类型 {card.generation} 的对照，已加入待对照代码"
        return None

    def queue_unmapped(self, session: Session, batch_no: str) -> None:
        if self.unmapped_types:
            exchange_service.note_unresolved(
                session, system=PROVINCE, kind="card_type", direction="out",
                found=[exchange_service.Unresolved(code, f"第{code}代社会保障卡", None, n)
                       for code, n in self.unmapped_types.items()],
                source=f"batch:{batch_no}",
            )  # fmt: skip


def _coded(record: registry_bulk.PersonRecord) -> dict[str, str]:
    return {"gender": record.gender, "ethnicity": record.ethnicity,
            "document_type": record.document_type}  # fmt: skip


@dataclass
class _Coding:
    """Employers, communities and card types met while writing, in the province's codes."""

    employers: dict[int, tuple[str, str]] = field(default_factory=dict)
    """Our employer id -> (credit code, name); grows with the distinct employers met."""
    missing_employers: Counter[str] = field(default_factory=Counter)
    missing_communities: Counter[str] = field(default_factory=Counter)
    names: dict[str, str] = field(default_factory=dict)
    new_codes: int = 0

    def employer(self, session: Session, employer_id: int | None) -> tuple[str, str]:
        if employer_id is None:
            return "", ""
        if employer_id not in self.employers:
            found = registry_units.get_employer(session, employer_id=employer_id)
            self.employers[employer_id] = (found.credit_code, found.name)
        return self.employers[employer_id]


def _write_chunk(
    session: Session, writer: exchange_service.PackageWriter,
    cards: Sequence[tuple[Card, registry_bulk.PersonRecord]], coding: _Coding,
) -> None:  # fmt: skip
    """Write the chunk's rows and photos (the photo reads audited as one entry)."""
    translator = exchange_service.translator(session, system=PROVINCE)
    credit = {c.id: coding.employer(session, r.employer_id) for c, r in cards}
    employers = exchange_service.entity_codes_out(
        session, system=PROVINCE, kind="employer", codes=[v[0] for v in credit.values()]
    )
    communities = exchange_service.entity_codes_out(
        session, system=PROVINCE, kind="community",
        codes=[r.community_code or "" for _, r in cards],
    )  # fmt: skip
    types = exchange_service.entity_codes_out(
        session, system=PROVINCE, kind="card_type", codes={str(c.generation) for c, _ in cards}
    )
    photos = registry_photos.photos_bytes(session, person_ids=[c.person_id for c, _ in cards])
    for card, record in cards:
        code, name = credit[card.id]
        community = record.community_code or ""
        if code and code not in employers:
            coding.missing_employers[code] += 1
            coding.names[code] = name
        if community and community not in communities:
            coding.missing_communities[community] += 1
        photo = photos.get(card.person_id)
        if photo is None:
            raise BatchStateConflict(f"卡号 {card.card_number} 的持卡人照片已被删除，请重新导出")
        coded = translator.to_external_record(_coded(record))
        writer.add(_row(card, record, coded, employers.get(code, ""), code,
                        communities.get(community, ""), types[str(card.generation)]),
                   photo)  # fmt: skip
    access.record(
        session,
        AccessRecord(
            action="person.batch_export", subject_type="batch", subject_id=writer.batch_no,
            subject_display=writer.batch_no, fields=("id_number", "name", "photo"),
            detail={"persons": len(cards)},
        ),
    )  # fmt: skip


def _row(
    card: Card, record: registry_bulk.PersonRecord, coded: dict[str, str], employer: str,
    credit_code: str, community: str, card_type: str,
) -> dict[str, str]:  # fmt: skip
    return {
        "AAZ500": card.card_number or "", "AAC002": record.id_number,
        "AAC058": coded["AAC058"], "AAC147": record.id_number, "AAC003": record.name,
        "AAC004": coded["AAC004"], "AAC005": coded["AAC005"],
        "AAC006": record.birth_date.strftime("%Y%m%d"), "AAC161": record.nationality,
        "AAB301": card.region_code, "AAB001": employer, "EMPLOYER_CREDIT_CODE": credit_code,
        "COMMUNITY_CODE": community, "CARD_TYPE": card_type,
        "APPLY_TYPE": "2" if card.kind == "replacement" else "1", "BANK_CODE": card.bank_code,
        "PICKUP_PLACE": card.pickup_place or "",
    }  # fmt: skip


def _finish(run: _Export, writer: exchange_service.PackageWriter, coding: _Coding) -> None:
    """Sign the package, queue the codes met without a mapping, mark the batch exported."""
    with db.transaction() as session:
        exchange_service.finish_package(session, writer=writer)
        coding.new_codes = _queue_outward(session, coding, run.batch_no)
        batch = _get(session, run.batch_no, lock=True)
        batch.status, batch.export_path = BatchStatus.exported.value, str(writer.path)
        batch.export_digest = exchange_service.package_digest(path=writer.path)
        batch.exported_at, batch.error = utcnow(), None
        _record(session, "issuance.batch.export", run.batch_no, cards=writer.count)


def _rewrite_package(run: _Export, coding: _Coding) -> None:
    """Write the package of a batch whose export stopped, from the cards it holds."""
    with _package(run) as writer:
        cursor = ""
        while True:
            with db.transaction() as session:
                cards = _batch_cards(session, run.batch_id, cursor, run.chunk)
                if not cards:
                    break
                cursor = cards[-1].card_number or ""
                records = registry_bulk.stored_records(
                    session, person_ids=[c.person_id for c in cards]
                )
                _write_chunk(session, writer, [(c, records[c.person_id]) for c in cards], coding)
        _finish(run, writer, coding)


def _batch_cards(session: Session, batch_id: int, cursor: str, size: int) -> list[Card]:
    stmt = (
        select(Card)
        .where(Card.batch_id == batch_id, Card.status == Status.submitted.value,
               Card.card_number > cursor)
        .order_by(Card.card_number)
        .limit(size)
    )  # fmt: skip
    return list(session.scalars(stmt))


def _queue_outward(session: Session, coding: _Coding, batch_no: str) -> int:
    source = f"batch:{batch_no}"
    new = exchange_service.note_unresolved(
        session, system=PROVINCE, kind="employer", direction="out", source=source,
        found=[exchange_service.Unresolved(code, coding.names.get(code, ""), None, n)
               for code, n in coding.missing_employers.items()],
    )  # fmt: skip
    new += exchange_service.note_unresolved(
        session, system=PROVINCE, kind="community", direction="out", source=source,
        found=[exchange_service.Unresolved(code, _community_name(session, code), None, n)
               for code, n in coding.missing_communities.items()],
    )  # fmt: skip
    return new


def _community_name(session: Session, code: str) -> str:
    try:
        return registry_units.get_community(session, code=code).name
    except SSCardError:
        return ""


# ---- send and fetch --------------------------------------------------------------------


def send_batch(*, batch_no: str, actor: Actor, encrypt: bool = False) -> BatchOut:
    """Send an exported batch to the province; its cards move to ``making`` once accepted."""
    iam_service.authorize(actor, "issuance.batch")
    with db.transaction() as session:
        batch = _get(session, batch_no)
        if batch.status not in SENDABLE:
            raise BatchStateConflict(
                f"批次 {batch_no} 当前状态为“{_status_name(batch.status)}”，不能报送"
            )
        path = Path(batch.export_path or "")
        key = exchange_service.province_transfer_key(session) if encrypt else None
    try:
        receipt = exchange_service.submit_batch(path=path, batch_no=batch_no, key=key)
    except BaseException as exc:
        _remember_error(batch_no, exc)
        raise
    with db.transaction() as session:
        batch = _get(session, batch_no, lock=True)
        batch.status, batch.error = BatchStatus.sent.value, None
        _record(session, "issuance.batch.send", batch_no, encrypted=encrypt,
                province_status=str(receipt.get("status", ""))[:32])  # fmt: skip
        batch_id = batch.id
    _accept_all(batch_id, actor)
    with db.transaction() as session:
        return batch_out(session, _get(session, batch_no))


def _accept_all(batch_id: int, actor: Actor, chunk: int = DEFAULT_CHUNK) -> None:
    """Move the batch's submitted cards to ``making`` (the province accepted them)."""
    while True:
        with db.transaction() as session:
            stmt = (
                select(Card)
                .where(Card.batch_id == batch_id, Card.status == Status.submitted.value)
                .order_by(Card.id)
                .limit(chunk)
            )
            cards = list(session.scalars(stmt))
            service.transition_many(
                session, moves=[(c, None) for c in cards], action=Action.accept, actor=actor
            )
        if len(cards) < chunk:
            return


def fetch_result(*, batch_no: str, actor: Actor, encrypt: bool = False) -> FetchReport:
    """Ask the province about a sent batch; download and check its result when ready."""
    iam_service.authorize(actor, "issuance.batch")
    with db.transaction() as session:
        batch = _get(session, batch_no)
        if batch.status not in IMPORTABLE:
            raise BatchStateConflict(f"批次 {batch_no} 尚未报送省卡管")
    state = exchange_service.province_batch_state(batch_no=batch_no)
    if state.status == "failed":
        error = BatchStateConflict(
            f"省卡管处理批次 {batch_no} 失败：{state.detail or '未说明原因'}"
        )
        _remember_error(batch_no, error)
        raise error
    if not state.ready:
        with db.transaction() as session:
            batch = _get(session, batch_no, lock=True)
            if batch.status == BatchStatus.sent and state.status == "processing":
                batch.status = BatchStatus.making.value
            out = batch_out(session, batch)
        return FetchReport(batch=out, ready=False, province_status=state.status,
                           province_detail=state.detail)  # fmt: skip
    raw = batch_dir(batch_no) / (RESULT_NAME + ".download")
    exchange_service.download_batch_result(batch_no=batch_no, target=raw, encrypt=encrypt)
    target = batch_dir(batch_no) / RESULT_NAME
    try:
        out = _keep_result(batch_no, raw, target)
    except BaseException as exc:
        target.unlink(missing_ok=True)
        _remember_error(batch_no, exc)
        raise
    finally:
        raw.unlink(missing_ok=True)
    return FetchReport(batch=out, ready=True, province_status=state.status,
                       province_detail=state.detail)  # fmt: skip


def _keep_result(batch_no: str, raw: Path, target: Path) -> BatchOut:
    """Unwrap and check a downloaded result; the batch is then ready for its import."""
    with db.transaction() as session:
        plain = exchange_service.decrypt_card_result(session, source=raw, target=target)
        if plain != target:
            raw.replace(target)
        with exchange_service.open_card_result(session, path=target) as package:
            if package.batch_no != batch_no:
                raise exchange_service.PackageRejected(
                    f"结果文件属于批次 {package.batch_no[:32]}，不是 {batch_no}"
                )
        batch = _get(session, batch_no, lock=True)
        if batch.status in (BatchStatus.sent, BatchStatus.making):
            batch.status = BatchStatus.result_ready.value
        batch.error = None
        _record(session, "issuance.batch.fetch", batch_no)
        return batch_out(session, batch)


def _status_name(status: str) -> str:
    try:
        return STATUS_NAMES[BatchStatus(status)]
    except ValueError:
        return status


# ---- import of the result file ---------------------------------------------------------

ChunkHook = Callable[[int], None]


@dataclass
class _Import:
    batch_no: str
    batch_id: int
    digest: str
    actor: Actor
    rejects_path: Path
    made: int = 0
    failed: int = 0
    rejected: int = 0
    unchanged: int = 0


@dataclass
class _Outcome:
    made: int = 0
    failed: int = 0
    unchanged: int = 0
    rejects: list[tuple[int, str, str, str, str]] = field(default_factory=list)
    boxes: Counter[tuple[str, str]] = field(default_factory=Counter)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    """kind -> province code -> card id of the first row that carried it."""


def import_result(
    *, actor: Actor, path: Path | None = None, batch_no: str | None = None,
    chunk: int = DEFAULT_CHUNK, before_commit: ChunkHook | None = None,
) -> ImportReport:  # fmt: skip
    """Apply a card-making result file (制卡结果文件): checked whole, applied in chunks,
    resumable and idempotent (see the module docstring)."""
    iam_service.authorize(actor, "issuance.batch")
    source = _result_source(path, batch_no)
    with db.transaction() as session:
        with exchange_service.open_card_result(session, path=source) as package:
            found_no = package.batch_no
            rows = package.manifest.row_count
        if batch_no is not None and found_no != batch_no:
            raise exchange_service.PackageRejected(
                f"结果文件属于批次 {found_no[:32]}，不是 {batch_no}"
            )
        digest = exchange_service.package_digest(path=source)
        start, already = _begin(session, found_no, digest, rows)
        batch = _get(session, found_no)
        run = _Import(found_no, batch.id, digest, actor, batch_dir(found_no) / REJECTS_NAME)
        run.rejected = batch.rejected_count if start else 0
    if already:
        return _report(run, rows, start, already=True)
    try:
        _apply_all(run, source, start, chunk, before_commit)
    except BaseException as exc:
        _remember_error(found_no, exc)
        raise
    return _report(run, rows, start, already=False)


def _result_source(path: Path | None, batch_no: str | None) -> Path:
    if path is None:
        if batch_no is None:
            raise BatchStateConflict("请指定结果文件，或指定已下载结果的批次号")
        path = batch_dir(batch_no) / RESULT_NAME
        if not path.exists():
            raise BatchStateConflict(f"批次 {batch_no} 尚未下载结果文件，请先执行 fetch")
        return path
    if not path.exists():
        raise BatchStateConflict(f"结果文件 {path.name} 不存在")
    incoming = get_settings().data_dir / "batches" / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    with db.transaction() as session:
        target = incoming / (exchange_service.package_digest(path=path)[:16] + ".zip")
        return exchange_service.decrypt_card_result(session, source=path, target=target)


def _begin(session: Session, batch_no: str, digest: str, rows: int) -> tuple[int, bool]:
    """Where the import of this file starts, and whether it is already done."""
    batch = _get(session, batch_no, lock=True)
    if batch.status not in IMPORTABLE:
        raise BatchStateConflict(f"批次 {batch_no} 尚未报送省卡管，不能导入结果")
    if batch.result_digest == digest:
        if batch.result_next_line >= rows:
            return batch.result_next_line, True
        batch.status = BatchStatus.importing.value
        return batch.result_next_line, False
    if batch.status == BatchStatus.importing and batch.result_next_line < batch.result_rows:
        raise ResultImportBusy(
            f"批次 {batch_no} 的上一个结果文件尚未导入完成（{batch.result_next_line}/"
            f"{batch.result_rows} 行），请先用该文件继续导入"
        )
    batch.result_digest, batch.result_next_line, batch.result_rows = digest, 0, rows
    batch.rejected_count, batch.status = 0, BatchStatus.importing.value
    return 0, False


def _apply_all(
    run: _Import, source: Path, start: int, chunk: int, before_commit: ChunkHook | None
) -> None:
    _truncate_rejects(run.rejects_path, run.rejected)
    with db.transaction() as session:
        package = exchange_service.open_card_result(session, path=source)
    with package, run.rejects_path.open("a", encoding="utf-8", newline="") as rejects:
        writer = csv.writer(rejects)
        for index, rows in enumerate(_chunked(package.rows(start), chunk)):
            with db.transaction() as session:
                _apply_chunk(session, run, rows, writer, rejects)
                if before_commit is not None:
                    before_commit(index)
    with db.transaction() as session:
        batch = _get(session, run.batch_no, lock=True)
        batch.status, batch.error = BatchStatus.result_imported.value, None
        batch.result_imported_at = utcnow()
        _record(session, "issuance.batch.import", run.batch_no, made=run.made,
                failed=run.failed, rejected=run.rejected)  # fmt: skip


def _chunked(rows: Iterable[exchange_service.PackageRow], size: int) -> Iterator[list[Any]]:
    buffer: list[Any] = []
    for row in rows:
        buffer.append(row)
        if len(buffer) >= size:
            yield buffer
            buffer = []
    if buffer:
        yield buffer


def _truncate_rejects(path: Path, keep: int) -> None:
    """Keep the header and the first ``keep`` rejects (those committed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kept: list[list[str]] = []
    if keep and path.exists():
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            for row in reader:
                if len(kept) >= keep:
                    break
                kept.append(row)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REJECTS_HEADER)
        writer.writerows(kept)


def _apply_chunk(
    session: Session, run: _Import, rows: Sequence[Any], writer: Any, handle: Any
) -> None:
    batch = _get(session, run.batch_no, lock=True)
    first = rows[0].index
    if batch.result_digest != run.digest or batch.result_next_line != first:
        raise ResultImportBusy(f"批次 {run.batch_no} 的结果正由另一个进程导入，请稍后查看进度")
    outcome = _Outcome()
    _ChunkApplier(session, run, batch, outcome).apply(rows)
    _store_boxes(session, batch, outcome.boxes)
    _queue_inward(session, run.batch_no, outcome.codes)
    writer.writerows(outcome.rejects)
    handle.flush()
    os.fsync(handle.fileno())
    batch.result_next_line = rows[-1].index + 1
    batch.made_count += outcome.made
    batch.failed_count += outcome.failed
    batch.rejected_count += len(outcome.rejects)
    run.made += outcome.made
    run.failed += outcome.failed
    run.rejected += len(outcome.rejects)
    run.unchanged += outcome.unchanged


class _ChunkApplier:
    """Apply one chunk's rows to their cards (one transaction, owned by the caller)."""

    def __init__(self, session: Session, run: _Import, batch: Batch, outcome: _Outcome) -> None:
        self.session, self.run, self.batch, self.outcome = session, run, batch, outcome
        self.cards: dict[str, Card] = {}
        self.persons: dict[str, str] = {}
        self.failed_cards: set[str] = set()
        self.id_codes: dict[str, str] = {}
        self.touched: set[str] = set()
        self.made: list[tuple[Card, service.MadeCard]] = []
        self.failed: list[tuple[Card, dict[str, Any]]] = []

    def _load(self, rows: Sequence[Any]) -> None:
        numbers = [r["AAZ500"] for r in rows if r["AAZ500"]]
        stmt = select(Card).where(Card.card_number.in_(numbers))
        self.cards = {c.card_number or "": c for c in self.session.scalars(stmt)}
        self.persons = registry_bulk.person_ids(
            self.session, id_numbers=sorted({r["AAC002"] for r in rows if r["AAC002"]})
        )
        ids = [c.id for c in self.cards.values()]
        failed = select(Failure.card_id).where(
            Failure.batch_id == self.batch.id, Failure.card_id.in_(ids)
        )
        self.failed_cards = set(self.session.scalars(failed))
        codes = [r["CARD_ID_CODE"] for r in rows if r["CARD_ID_CODE"]]
        used = select(Card.card_id_code, Card.card_number).where(Card.card_id_code.in_(codes))
        self.id_codes = {str(row[0]): row[1] or "" for row in self.session.execute(used)}

    def apply(self, rows: Sequence[Any]) -> None:
        self._load(rows)
        for row in rows:
            reason = self._row(row)
            if reason is not None:
                self.outcome.rejects.append(
                    (row.line, row["SEQ"], row["AAZ500"], mask_id_number(row["AAC002"]), reason)
                )
        service.record_made_many(self.session, made=self.made, actor=self.run.actor)
        service.transition_many(
            self.session, moves=self.failed, action=Action.fail, actor=self.run.actor
        )
        now = utcnow()
        self.session.add_all(
            Failure(card_id=card.id, batch_id=self.batch.id, stage=detail["stage"],
                    reason=detail["reason"], status="open", created_at=now)
            for card, detail in self.failed
        )  # fmt: skip

    def _row(self, row: Any) -> str | None:
        number = row["AAZ500"]
        card = self.cards.get(number)
        if card is None:
            return f"卡号 {number[:16] or '（空）'} 不存在"
        if card.batch_id != self.batch.id:
            return f"卡号 {number} 不属于批次 {self.batch.batch_no}"
        if self.persons.get(row["AAC002"]) != card.person_id:
            return f"社会保障号码与卡号 {number} 的持卡人不符"
        if card.id in self.touched:
            return f"卡号 {number} 在结果文件中重复出现"
        self.touched.add(card.id)
        self._note_codes(row, card)
        if row["RESULT"] == exchange_service.RESULT_SUCCESS:
            return self._made(row, card)
        if row["RESULT"] == exchange_service.RESULT_FAILURE:
            return self._failed(row, card)
        return "处理结果 RESULT 应为 0（成功）或 1（失败）"

    def _made(self, row: Any, card: Card) -> str | None:
        code = row["CARD_ID_CODE"]
        if card.card_id_code is not None and card.card_id_code == code:
            self.outcome.unchanged += 1
            return None
        if card.status not in IN_MAKING:
            return f"卡片当前状态为“{_card_status_name(card.status)}”，不能登记制卡结果"
        made = _made_card(row)
        if isinstance(made, str):
            return made
        problems = service.made_problems(card, made)
        if problems:
            return "；".join(p.reason for p in problems)
        owner = self.id_codes.get(code)
        if owner is not None and owner != card.card_number:
            return f"卡识别码已被卡号 {owner} 使用"
        self.made.append((card, made))
        self.id_codes[code] = card.card_number or ""
        if made.box_code:
            self.outcome.boxes[(made.box_code, row["VENDOR_CODE"] or code[10:14])] += 1
        self.outcome.made += 1
        return None

    def _failed(self, row: Any, card: Card) -> str | None:
        if card.id in self.failed_cards:
            self.outcome.unchanged += 1
            return None
        stage = row["FAIL_STAGE"]
        if stage not in exchange_service.FAILURE_STAGES:
            return "失败环节 FAIL_STAGE 应为 province、bank 或 vendor"
        if card.status not in IN_MAKING:
            return f"卡片当前状态为“{_card_status_name(card.status)}”，不能登记制卡失败"
        reason = (row["FAIL_REASON"] or "未说明原因")[:200]
        detail = {"batch_no": self.batch.batch_no, "stage": stage, "reason": reason}
        self.failed.append((card, detail))
        self.failed_cards.add(card.id)
        self.outcome.failed += 1
        return None

    def _note_codes(self, row: Any, card: Card) -> None:
        for kind, column_name in (("employer", "AAB001"), ("community", "COMMUNITY_CODE"),
                                  ("card_type", "CARD_TYPE")):  # fmt: skip
            value = row[column_name]
            if value:
                self.outcome.codes.setdefault(kind, {}).setdefault(value, card.person_id)


def _made_card(row: Any) -> service.MadeCard | str:
    issued = _date(row["ISSUE_DATE"])
    if issued is None:
        return "发卡日期 ISSUE_DATE 应为 8 位日期（YYYYMMDD）"
    expiry = _date(row["EXPIRY_DATE"]) if row["EXPIRY_DATE"] else None
    if row["EXPIRY_DATE"] and expiry is None:
        return "有效期 EXPIRY_DATE 应为 8 位日期（YYYYMMDD）"
    position = row["BOX_POSITION"]
    if position and not position.isdigit():
        return "盒内位置 BOX_POSITION 应为数字"
    return service.MadeCard(
        card_id_code=row["CARD_ID_CODE"], atr=row["ATR"].upper(), bank_account=row["BANK_ACCOUNT"],
        issue_date=issued, expiry_date=expiry, box_code=row["BOX_NO"][:32] or None,
        box_position=int(position) if position else None,
    )  # fmt: skip


def _date(value: str) -> date | None:
    try:
        return datetime.strptime(value, "%Y%m%d").date() if len(value) == 8 else None
    except ValueError:
        return None


def _card_status_name(status: str) -> str:
    try:
        return lifecycle.STATUS_NAMES[Status(status)]
    except ValueError:
        return status


def _store_boxes(session: Session, batch: Batch, boxes: Counter[tuple[str, str]]) -> None:
    now = utcnow()
    for (code, vendor), count in sorted(boxes.items()):
        box = session.get(Box, code)
        if box is None:
            session.add(Box(code=code, batch_id=batch.id, vendor_code=vendor[:32],
                            card_count=count, location=vendor[:64], updated_at=now))  # fmt: skip
        else:
            box.card_count += count
            box.updated_at = now


def _queue_inward(session: Session, batch_no: str, codes: dict[str, dict[str, str]]) -> None:
    for kind, values in codes.items():
        known = exchange_service.entity_codes_in(
            session, system=PROVINCE, kind=kind, codes=values.keys()
        )
        missing = [(code, person_id) for code, person_id in values.items() if code not in known]
        if missing:
            exchange_service.note_unresolved(
                session, system=PROVINCE, kind=kind, direction="in",
                found=[_inward(session, kind, code, person_id) for code, person_id in missing],
                source=f"result:{batch_no}",
            )  # fmt: skip


def _inward(session: Session, kind: str, code: str, person_id: str) -> Any:
    """A province code with our likely counterpart: the holder's employer or community."""
    person = registry_service.get_person_by_id(session, person_id=person_id)
    suggestion, name = None, ""
    if kind == "employer" and person.employer_id is not None:
        employer = registry_units.get_employer(session, employer_id=person.employer_id)
        suggestion, name = employer.credit_code, employer.name
    elif kind == "community" and person.community_code:
        suggestion = person.community_code
    return exchange_service.Unresolved(code, name, suggestion, 1)


def _report(run: _Import, rows: int, start: int, *, already: bool) -> ImportReport:
    with db.transaction() as session:
        out = batch_out(session, _get(session, run.batch_no))
    return ImportReport(
        batch=out, rows=rows, made=run.made, failed=run.failed, rejected=run.rejected,
        unchanged=run.unchanged, already_imported=already, resumed_at=start,
        rejects=_read_rejects(run.rejects_path, MAX_SHOWN),
    )  # fmt: skip


# ---- card-making failures (制卡失败) ---------------------------------------------------

# The registry's person table, named here only to list failures by employer (read-only).
_person = table("registry_person", column("id"), column("employer_id"))


def list_failures(
    session: Session, *, batch_no: str | None = None, employer_id: int | None = None,
    status: str | None = "open", limit: int = 200, offset: int = 0,
) -> list[FailureOut]:  # fmt: skip
    """Card-making failures, newest first: of a batch, of an employer's staff, by status."""
    stmt = select(Failure).order_by(Failure.id.desc()).limit(limit).offset(offset)
    if status:
        stmt = stmt.where(Failure.status == status)
    if batch_no:
        stmt = stmt.where(Failure.batch_id == _get(session, batch_no).id)
    if employer_id is not None:
        stmt = (
            stmt.join(Card, Card.id == Failure.card_id)
            .join(_person, _person.c.id == Card.person_id)
            .where(_person.c.employer_id == employer_id)
        )
    return [failure_out(session, f) for f in session.scalars(stmt)]


def failure_out(session: Session, failure: Failure) -> FailureOut:
    card = service.card_by_id(session, card_id=failure.card_id)
    id_masked, name_masked = registry_service.person_display(session, person_id=card.person_id)
    batch = repository.batch(session, failure.batch_id) if failure.batch_id else None
    person = registry_service.get_person_by_id(session, person_id=card.person_id)
    return FailureOut(
        id=failure.id, batch_no=batch.batch_no if batch else None, card_number=card.card_number,
        holder_id_number=id_masked, holder_name=name_masked,
        employer=person.employer.name if person.employer else None, stage=failure.stage,
        stage_name=exchange_service.FAILURE_STAGES.get(failure.stage, failure.stage),
        reason=failure.reason, status=failure.status, resolution=failure.resolution,
        resolved_by=failure.resolved_by, created_at=failure.created_at,
        resolved_at=failure.resolved_at,
    )  # fmt: skip


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
    card = service.card_by_id(session, card_id=failure.card_id)
    service.note(session, card=card, action="failure_resolved", actor=actor,
                 detail={"failure_id": failure.id, "note": note})  # fmt: skip
    session.flush()
    return failure


def resubmit_failure(session: Session, *, failure_id: int, note: str, actor: Actor) -> Failure:
    """Send the card back to ``applied`` (same card number) for the next batch."""
    failure = _failure(session, failure_id)
    if failure.status == "resubmitted":
        raise FailureStateConflict(f"制卡失败记录 {failure_id} 已重新报送")
    card = service.card_by_id(session, card_id=failure.card_id)
    live = service.live_card(session, person_id=card.person_id)
    if live is not None and live.id != card.id:
        raise FailureStateConflict("持卡人已有其他有效的卡或申请，不能重新报送此卡")
    service.transition(session, card=card, action=Action.resubmit, actor=actor,
                       detail={"failure_id": failure.id, "note": note})  # fmt: skip
    failure.status, failure.resolution = "resubmitted", note
    failure.resolved_by, failure.resolved_at = actor.id[:64], utcnow()
    session.flush()
    return failure
