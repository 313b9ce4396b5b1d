"""Export (``sscard batch export``) works in two phases, every chunk in its own transaction,
so memory stays bounded for any number of applications:

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
"""

from __future__ import annotations

import csv
import fcntl
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sscard import db
from sscard.db import utcnow
from sscard.errors import SSCardError
from sscard.exchange.files import service as exchange_files
from sscard.exchange.mapping import service as exchange_mapping
from sscard.exchange.translation import service as exchange_codes
from sscard.iam import service as iam_service
from sscard.issuance.batches import repository, service
from sscard.issuance.batches.errors import BatchStateConflict, NothingToExport
from sscard.issuance.batches.models import Batch
from sscard.issuance.batches.schemas import ExportReport, HeldCard
from sscard.issuance.cards import number_service
from sscard.issuance.cards import service as cards_service
from sscard.issuance.cards.models import Card
from sscard.issuance.lifecycle import Action, Status
from sscard.kit import access
from sscard.kit.access import AccessRecord
from sscard.kit.context import Actor
from sscard.kit.masking import mask_id_number
from sscard.registry.bulk import service as registry_bulk
from sscard.registry.persons import service as registry_service
from sscard.registry.photos import service as registry_photos
from sscard.registry.units import service as registry_units
from sscard.settings import get_settings


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
    *, actor: Actor, limit: int | None = None, chunk: int = service.DEFAULT_CHUNK
) -> ExportReport:
    """Export the applied batch-mode cards of this city as a new batch (or finish one).

    Unit of work: its own transactions (one per chunk taken or written, one to finish the batch, one
    to record why a run stopped); call it outside any transaction (a request's or command's unit of
    work must have ended, see ``issuance.api.batches``).
    """
    iam_service.authorize(actor, "issuance.batch")
    iam_service.authorize(actor, "registry.photo.read")
    with db.transaction() as session:
        unfinished = repository.unfinished_export(
            session, _region(), service.BatchStatus.exporting.value
        )
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
        service.remember_error(run.batch_no, exc)
        raise
    with db.transaction() as session:
        out = service.batch_out(session, service.batch_row(session, run.batch_no))
    return ExportReport(
        batch=out,
        resumed=unfinished is not None,
        held=run.held_count,
        held_cards=run.held,
        unresolved_codes=coding.new_codes,
    )


@contextmanager
def _exporting(batch_no: str) -> Iterator[None]:
    """Hold the batch's export lock (a file lock the system drops if the process dies)."""
    directory = service.batch_dir(batch_no)
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
    count = repository.count_batches_numbered(session, prefix)
    for attempt in range(count + 1, count + 50):
        batch = Batch(
            batch_no=f"{prefix}{attempt:04d}",
            region_code=region,
            status=service.BatchStatus.exporting.value,
            card_count=0,
            made_count=0,
            failed_count=0,
            rejected_count=0,
            result_rows=0,
            result_next_line=0,
            created_by=actor.id[:64],
            created_at=now,
        )
        try:
            with session.begin_nested():
                session.add(batch)
            return batch
        except IntegrityError:
            continue
    raise BatchStateConflict("今日批次号已用尽，请稍后重试")  # pragma: no cover


def _package(run: _Export) -> exchange_files.PackageWriter:
    path = service.batch_dir(run.batch_no) / service.PACKAGE_NAME
    return exchange_files.account_opening_writer(path=path, batch_no=run.batch_no)


def _take_all(run: _Export, coding: _Coding) -> None:
    """Move applied cards into the batch and write them out, a chunk per transaction.

    The package is written as the chunks commit; if the run stops, the batch stays
    ``exporting`` with the cards committed so far, and the next export rewrites its package.
    """
    directory = service.batch_dir(run.batch_no)
    directory.mkdir(parents=True, exist_ok=True)
    with (
        (directory / service.HELD_NAME).open("w", encoding="utf-8", newline="") as held_file,
        _package(run) as writer,
    ):
        held = csv.writer(held_file)
        held.writerow(service.HELD_HEADER)
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
                session.delete(service.batch_row(session, run.batch_no))
            raise NothingToExport(
                "没有可报送的批量制卡申请"
                + (
                    f"（{run.held_count} 张申请暂缓报送，见 {service.HELD_NAME}）"
                    if run.held_count
                    else ""
                )
            )
        _finish(run, writer, coding)


def _candidates(session: Session, cursor: str, size: int) -> list[Card]:
    return repository.applied_batch_cards(
        session, region_code=_region(), status=Status.applied.value, after=cursor, limit=size
    )


def _take_chunk(
    session: Session, run: _Export, size: int, held_out: Any
) -> list[tuple[Card, registry_service.PersonRecord]] | None:
    """Take up to ``size`` cards into the batch; None when none are left."""
    cards = _candidates(session, run.cursor, size)
    if not cards:
        return None
    run.cursor = cards[-1].id
    checks = _Checks.load(session, cards)
    batch = service.batch_row(session, run.batch_no, lock=True)
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
        if len(run.held) < service.MAX_SHOWN:
            run.held.append(HeldCard(card_number=card.card_number, id_number=masked, reason=reason))
    checks.queue_unmapped(session, run.batch_no)
    _number(session, accepted, run.actor)
    for card in accepted:
        card.batch_id = batch.id
    detail = {"batch_no": run.batch_no}
    cards_service.transition_many(
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
    allocated = number_service.allocate_numbers(session, region_code=_region(), count=len(needing))
    for card, number in zip(needing, allocated, strict=True):
        card.card_number = number
        cards_service.note(
            session, card=card, action="assign_number", actor=actor, detail={"card_number": number}
        )


@dataclass
class _Checks:
    """What decides, for one chunk, whether a card can go to the province."""

    records: dict[str, registry_service.PersonRecord]
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
        types = exchange_mapping.entity_codes_out(
            session,
            system=service.PROVINCE,
            kind="card_type",
            codes={str(c.generation) for c in cards},
        )
        return cls(
            records,
            statuses,
            registry_photos.photo_owners(session, person_ids=person_ids),
            exchange_codes.translator(session, system=service.PROVINCE),
            types,
        )

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
            exchange_mapping.note_unresolved(
                session,
                system=service.PROVINCE,
                kind="card_type",
                direction="out",
                found=[
                    exchange_mapping.Unresolved(code, f"第{code}代社会保障卡", None, n)
                    for code, n in self.unmapped_types.items()
                ],
                source=f"batch:{batch_no}",
            )


def _coded(record: registry_service.PersonRecord) -> dict[str, str]:
    return {
        "gender": record.gender,
        "ethnicity": record.ethnicity,
        "document_type": record.document_type,
    }


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
    session: Session,
    writer: exchange_files.PackageWriter,
    cards: Sequence[tuple[Card, registry_service.PersonRecord]],
    coding: _Coding,
) -> None:
    """Write the chunk's rows and photos (the photo reads audited as one entry)."""
    translator = exchange_codes.translator(session, system=service.PROVINCE)
    credit = {c.id: coding.employer(session, r.employer_id) for c, r in cards}
    employers = exchange_mapping.entity_codes_out(
        session, system=service.PROVINCE, kind="employer", codes=[v[0] for v in credit.values()]
    )
    communities = exchange_mapping.entity_codes_out(
        session,
        system=service.PROVINCE,
        kind="community",
        codes=[r.community_code or "" for _, r in cards],
    )
    types = exchange_mapping.entity_codes_out(
        session,
        system=service.PROVINCE,
        kind="card_type",
        codes={str(c.generation) for c, _ in cards},
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
        writer.add(
            _row(
                card,
                record,
                coded,
                employers.get(code, ""),
                code,
                communities.get(community, ""),
                types[str(card.generation)],
            ),
            photo,
        )
    access.record(
        session,
        AccessRecord(
            action="person.batch_export",
            subject_type="batch",
            subject_id=writer.batch_no,
            subject_display=writer.batch_no,
            fields=("id_number", "name", "photo"),
            detail={"persons": len(cards)},
        ),
    )


def _row(
    card: Card,
    record: registry_service.PersonRecord,
    coded: dict[str, str],
    employer: str,
    credit_code: str,
    community: str,
    card_type: str,
) -> dict[str, str]:
    return {
        "AAZ500": card.card_number or "",
        "AAC002": record.id_number,
        "AAC058": coded["AAC058"],
        "AAC147": record.id_number,
        "AAC003": record.name,
        "AAC004": coded["AAC004"],
        "AAC005": coded["AAC005"],
        "AAC006": record.birth_date.strftime("%Y%m%d"),
        "AAC161": record.nationality,
        "AAB301": card.region_code,
        "AAB001": employer,
        "EMPLOYER_CREDIT_CODE": credit_code,
        "COMMUNITY_CODE": community,
        "CARD_TYPE": card_type,
        "APPLY_TYPE": "2" if card.kind == "replacement" else "1",
        "BANK_CODE": card.bank_code,
        "PICKUP_PLACE": card.pickup_place or "",
    }


def _finish(run: _Export, writer: exchange_files.PackageWriter, coding: _Coding) -> None:
    """Sign the package, queue the codes met without a mapping, mark the batch exported."""
    with db.transaction() as session:
        exchange_files.finish_package(session, writer=writer)
        coding.new_codes = _queue_outward(session, coding, run.batch_no)
        batch = service.batch_row(session, run.batch_no, lock=True)
        batch.status, batch.export_path = service.BatchStatus.exported.value, str(writer.path)
        batch.export_digest = exchange_files.package_digest(path=writer.path)
        batch.exported_at, batch.error = utcnow(), None
        service.record(session, "issuance.batch.export", run.batch_no, cards=writer.count)


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
    return repository.batch_cards_by_number(
        session, batch_id=batch_id, status=Status.submitted.value, after=cursor, limit=size
    )


def _queue_outward(session: Session, coding: _Coding, batch_no: str) -> int:
    source = f"batch:{batch_no}"
    new = exchange_mapping.note_unresolved(
        session,
        system=service.PROVINCE,
        kind="employer",
        direction="out",
        source=source,
        found=[
            exchange_mapping.Unresolved(code, coding.names.get(code, ""), None, n)
            for code, n in coding.missing_employers.items()
        ],
    )
    new += exchange_mapping.note_unresolved(
        session,
        system=service.PROVINCE,
        kind="community",
        direction="out",
        source=source,
        found=[
            exchange_mapping.Unresolved(code, _community_name(session, code), None, n)
            for code, n in coding.missing_communities.items()
        ],
    )
    return new


def _community_name(session: Session, code: str) -> str:
    try:
        return registry_units.get_community(session, code=code).name
    except SSCardError:
        return ""
