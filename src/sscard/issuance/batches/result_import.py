"""Import of the result file (``sscard batch import-result``): the whole result package is
checked first (signature, digests, count), then applies it in chunks. Each chunk is one transaction:
its cards (made, or failed with a :class:`~sscard.issuance.batches.models.Failure`), its boxes,
the batch's counters and ``result_next_line`` commit together. So the import can be killed
at any point and run again: it resumes at ``result_next_line``; nothing is lost, applied
twice or half applied. The batch remembers the result file's SM3 (``result_digest``):
importing the same file again changes nothing. A row is also idempotent on its own (a
card already made with the same card identification code, a failure already recorded for
the card in this batch), so an overlapping second file cannot apply a row twice either.
Rows that cannot be applied (unknown card number, a card of another batch or in another
status, a card identification code that fails its check or names another region) are
listed in ``result-rejects.csv`` and counted; the import goes on.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from sscard import db
from sscard.db import utcnow
from sscard.exchange.files import service as exchange_files
from sscard.exchange.mapping import service as exchange_mapping
from sscard.iam import service as iam_service
from sscard.issuance import lifecycle
from sscard.issuance.batches import repository, service
from sscard.issuance.batches.errors import BatchStateConflict, ResultImportBusy
from sscard.issuance.batches.models import Batch, Failure
from sscard.issuance.batches.schemas import ImportReport
from sscard.issuance.cards import making_service
from sscard.issuance.cards import service as cards_service
from sscard.issuance.cards.models import Box, Card
from sscard.issuance.lifecycle import Action, Status
from sscard.kit.context import Actor
from sscard.kit.masking import mask_id_number
from sscard.registry.bulk import service as registry_bulk
from sscard.registry.persons import service as registry_service
from sscard.registry.units import service as registry_units
from sscard.settings import get_settings

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
    *,
    actor: Actor,
    path: Path | None = None,
    batch_no: str | None = None,
    chunk: int = service.DEFAULT_CHUNK,
    before_commit: ChunkHook | None = None,
) -> ImportReport:
    """Apply a card-making result file (制卡结果文件): checked whole, applied in chunks,
    resumable and idempotent (see the module docstring).

    Unit of work: its own transactions (one to check the file and begin, one per chunk of rows, one
    to finish); call it outside any transaction (a request's or command's unit of work must have
    ended, see ``issuance.api.batches``).
    """
    iam_service.authorize(actor, "issuance.batch")
    source = _result_source(path, batch_no)
    with db.transaction() as session:
        with exchange_files.open_card_result(session, path=source) as package:
            found_no = package.batch_no
            rows = package.manifest.row_count
        if batch_no is not None and found_no != batch_no:
            raise exchange_files.PackageRejected(
                f"结果文件属于批次 {found_no[:32]}，不是 {batch_no}"
            )
        digest = exchange_files.package_digest(path=source)
        start, already = _begin(session, found_no, digest, rows)
        batch = service.batch_row(session, found_no)
        run = _Import(
            found_no, batch.id, digest, actor, service.batch_dir(found_no) / service.REJECTS_NAME
        )
        run.rejected = batch.rejected_count if start else 0
    if already:
        return _report(run, rows, start, already=True)
    try:
        _apply_all(run, source, start, chunk, before_commit)
    except BaseException as exc:
        service.remember_error(found_no, exc)
        raise
    return _report(run, rows, start, already=False)


def _result_source(path: Path | None, batch_no: str | None) -> Path:
    if path is None:
        if batch_no is None:
            raise BatchStateConflict("请指定结果文件，或指定已下载结果的批次号")
        path = service.batch_dir(batch_no) / service.RESULT_NAME
        if not path.exists():
            raise BatchStateConflict(f"批次 {batch_no} 尚未下载结果文件，请先执行 fetch")
        return path
    if not path.exists():
        raise BatchStateConflict(f"结果文件 {path.name} 不存在")
    incoming = get_settings().data_dir / "batches" / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    with db.transaction() as session:
        target = incoming / (exchange_files.package_digest(path=path)[:16] + ".zip")
        return exchange_files.decrypt_card_result(session, source=path, target=target)


def _begin(session: Session, batch_no: str, digest: str, rows: int) -> tuple[int, bool]:
    """Where the import of this file starts, and whether it is already done."""
    batch = service.batch_row(session, batch_no, lock=True)
    if batch.status not in service.IMPORTABLE:
        raise BatchStateConflict(f"批次 {batch_no} 尚未报送省卡管，不能导入结果")
    if batch.result_digest == digest:
        if batch.result_next_line >= rows:
            return batch.result_next_line, True
        batch.status = service.BatchStatus.importing.value
        return batch.result_next_line, False
    if batch.status == service.BatchStatus.importing and batch.result_next_line < batch.result_rows:
        raise ResultImportBusy(
            f"批次 {batch_no} 的上一个结果文件尚未导入完成（{batch.result_next_line}/"
            f"{batch.result_rows} 行），请先用该文件继续导入"
        )
    batch.result_digest, batch.result_next_line, batch.result_rows = digest, 0, rows
    batch.rejected_count, batch.status = 0, service.BatchStatus.importing.value
    return 0, False


def _apply_all(
    run: _Import, source: Path, start: int, chunk: int, before_commit: ChunkHook | None
) -> None:
    _truncate_rejects(run.rejects_path, run.rejected)
    with db.transaction() as session:
        package = exchange_files.open_card_result(session, path=source)
    with package, run.rejects_path.open("a", encoding="utf-8", newline="") as rejects:
        writer = csv.writer(rejects)
        for index, rows in enumerate(_chunked(package.rows(start), chunk)):
            with db.transaction() as session:
                _apply_chunk(session, run, rows, writer, rejects)
                if before_commit is not None:
                    before_commit(index)
    with db.transaction() as session:
        batch = service.batch_row(session, run.batch_no, lock=True)
        batch.status, batch.error = service.BatchStatus.result_imported.value, None
        batch.result_imported_at = utcnow()
        service.record(
            session,
            "issuance.batch.import",
            run.batch_no,
            made=run.made,
            failed=run.failed,
            rejected=run.rejected,
        )


def _chunked(rows: Iterable[exchange_files.PackageRow], size: int) -> Iterator[list[Any]]:
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
        writer.writerow(service.REJECTS_HEADER)
        writer.writerows(kept)


def _apply_chunk(
    session: Session, run: _Import, rows: Sequence[Any], writer: Any, handle: Any
) -> None:
    batch = service.batch_row(session, run.batch_no, lock=True)
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
        self.made: list[tuple[Card, making_service.MadeCard]] = []
        self.failed: list[tuple[Card, dict[str, Any]]] = []

    def _load(self, rows: Sequence[Any]) -> None:
        numbers = [r["AAZ500"] for r in rows if r["AAZ500"]]
        self.cards = repository.cards_by_numbers(self.session, numbers)
        self.persons = registry_bulk.person_ids(
            self.session, id_numbers=sorted({r["AAC002"] for r in rows if r["AAC002"]})
        )
        self.failed_cards = repository.failed_card_ids(
            self.session, batch_id=self.batch.id, card_ids=[c.id for c in self.cards.values()]
        )
        codes = [r["CARD_ID_CODE"] for r in rows if r["CARD_ID_CODE"]]
        self.id_codes = repository.id_code_owners(self.session, codes)

    def apply(self, rows: Sequence[Any]) -> None:
        self._load(rows)
        for row in rows:
            reason = self._row(row)
            if reason is not None:
                self.outcome.rejects.append(
                    (row.line, row["SEQ"], row["AAZ500"], mask_id_number(row["AAC002"]), reason)
                )
        making_service.record_made_many(self.session, made=self.made, actor=self.run.actor)
        cards_service.transition_many(
            self.session, moves=self.failed, action=Action.fail, actor=self.run.actor
        )
        now = utcnow()
        self.session.add_all(
            Failure(
                card_id=card.id,
                batch_id=self.batch.id,
                stage=detail["stage"],
                reason=detail["reason"],
                status="open",
                created_at=now,
            )
            for card, detail in self.failed
        )

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
        if row["RESULT"] == exchange_files.RESULT_SUCCESS:
            return self._made(row, card)
        if row["RESULT"] == exchange_files.RESULT_FAILURE:
            return self._failed(row, card)
        return "处理结果 RESULT 应为 0（成功）或 1（失败）"

    def _made(self, row: Any, card: Card) -> str | None:
        code = row["CARD_ID_CODE"]
        if card.card_id_code is not None and card.card_id_code == code:
            self.outcome.unchanged += 1
            return None
        if card.status not in service.IN_MAKING:
            return f"卡片当前状态为“{_card_status_name(card.status)}”，不能登记制卡结果"
        made = _made_card(row)
        if isinstance(made, str):
            return made
        problems = making_service.made_problems(card, made)
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
        if stage not in exchange_files.FAILURE_STAGES:
            return "失败环节 FAIL_STAGE 应为 province、bank 或 vendor"
        if card.status not in service.IN_MAKING:
            return f"卡片当前状态为“{_card_status_name(card.status)}”，不能登记制卡失败"
        reason = (row["FAIL_REASON"] or "未说明原因")[:200]
        detail = {"batch_no": self.batch.batch_no, "stage": stage, "reason": reason}
        self.failed.append((card, detail))
        self.failed_cards.add(card.id)
        self.outcome.failed += 1
        return None

    def _note_codes(self, row: Any, card: Card) -> None:
        for kind, column_name in (
            ("employer", "AAB001"),
            ("community", "COMMUNITY_CODE"),
            ("card_type", "CARD_TYPE"),
        ):
            value = row[column_name]
            if value:
                self.outcome.codes.setdefault(kind, {}).setdefault(value, card.person_id)


def _made_card(row: Any) -> making_service.MadeCard | str:
    issued = _date(row["ISSUE_DATE"])
    if issued is None:
        return "发卡日期 ISSUE_DATE 应为 8 位日期（YYYYMMDD）"
    expiry = _date(row["EXPIRY_DATE"]) if row["EXPIRY_DATE"] else None
    if row["EXPIRY_DATE"] and expiry is None:
        return "有效期 EXPIRY_DATE 应为 8 位日期（YYYYMMDD）"
    position = row["BOX_POSITION"]
    if position and not position.isdigit():
        return "盒内位置 BOX_POSITION 应为数字"
    return making_service.MadeCard(
        card_id_code=row["CARD_ID_CODE"],
        atr=row["ATR"].upper(),
        bank_account=row["BANK_ACCOUNT"],
        issue_date=issued,
        expiry_date=expiry,
        box_code=row["BOX_NO"][:32] or None,
        box_position=int(position) if position else None,
    )


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
        box = repository.box(session, code)
        if box is None:
            session.add(
                Box(
                    code=code,
                    batch_id=batch.id,
                    vendor_code=vendor[:32],
                    card_count=count,
                    location=vendor[:64],
                    updated_at=now,
                )
            )
        else:
            box.card_count += count
            box.updated_at = now


def _queue_inward(session: Session, batch_no: str, codes: dict[str, dict[str, str]]) -> None:
    for kind, values in codes.items():
        known = exchange_mapping.entity_codes_in(
            session, system=service.PROVINCE, kind=kind, codes=values.keys()
        )
        missing = [(code, person_id) for code, person_id in values.items() if code not in known]
        if missing:
            exchange_mapping.note_unresolved(
                session,
                system=service.PROVINCE,
                kind=kind,
                direction="in",
                found=[_inward(session, kind, code, person_id) for code, person_id in missing],
                source=f"result:{batch_no}",
            )


def _inward(session: Session, kind: str, code: str, person_id: str) -> Any:
    """A province code with our likely counterpart: the holder's employer or community."""
    person = registry_service.get_person_by_id(session, person_id=person_id)
    suggestion, name = None, ""
    if kind == "employer" and person.employer_id is not None:
        employer = registry_units.get_employer(session, employer_id=person.employer_id)
        suggestion, name = employer.credit_code, employer.name
    elif kind == "community" and person.community_code:
        suggestion = person.community_code
    return exchange_mapping.Unresolved(code, name, suggestion, 1)


def _report(run: _Import, rows: int, start: int, *, already: bool) -> ImportReport:
    with db.transaction() as session:
        out = service.batch_out(session, service.batch_row(session, run.batch_no))
    return ImportReport(
        batch=out,
        rows=rows,
        made=run.made,
        failed=run.failed,
        rejected=run.rejected,
        unchanged=run.unchanged,
        already_imported=already,
        resumed_at=start,
        rejects=service.read_rejects(run.rejects_path, service.MAX_SHOWN),
    )
