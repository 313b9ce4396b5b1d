"""Persons many at once: the bulk upsert of imports and demo data, and look-ups by the batch.

A bulk write checks nothing itself: its records were checked by the caller (the import's
row rules, or generated valid). It writes through the persons repository's bulk
statements and leaves one audit entry per batch instead of one per person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from sscard.crypto import fields
from sscard.db import new_id, utcnow
from sscard.kit import access
from sscard.kit.access import AccessRecord
from sscard.registry.persons import repository, sealing
from sscard.registry.persons import service as persons_service
from sscard.registry.records import EnrolmentRecord, PersonRecord

__all__ = ["EnrolmentRecord", "PersonRecord", "UpsertCounts"]


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: UpsertCounts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged


def upsert_persons(
    session: Session, records: Sequence[PersonRecord], *, label: str
) -> UpsertCounts:
    """Insert new persons and update changed ones in bulk (records already checked).

    Idempotent: a record identical to what is stored changes nothing. One audit entry
    covers the whole batch (``label`` says which file or job).
    """
    if not records:
        return UpsertCounts()
    counts = _upsert(session, records)
    _record_batch(session, label, counts)
    return counts


def _upsert(session: Session, records: Sequence[PersonRecord]) -> UpsertCounts:
    counts = UpsertCounts()
    if not records:
        return counts
    keys = sealing.keys(session)
    digests = {r.id_number: sealing.content_digest(r, keys) for r in records}
    indexes = {
        r.id_number: keys.blind_index(r.id_number, purpose=sealing.ID_PURPOSE) for r in records
    }
    existing = repository.existing_by_index(session, list(indexes.values()))
    now = utcnow()
    inserts, updates, touched, enrol_rows = [], [], [], []
    for record in records:
        found = existing.get(indexes[record.id_number])
        if found is not None and found[1] == digests[record.id_number]:
            counts.unchanged += 1
            continue
        person_id = found[0] if found else new_id()
        row = sealing.person_row(record, person_id=person_id, keys=keys, now=now)
        if found:
            row.pop("created_at"), row.pop("status"), row.pop("death_date"), row.pop("version")
            updates.append(row)
            counts.updated += 1
        else:
            inserts.append(row)
            counts.created += 1
        touched.append(person_id)
        enrol_rows += [
            {
                "person_id": person_id,
                "insurance_type": e.insurance_type,
                "status": e.status,
                "start_date": e.start_date,
                "end_date": e.end_date,
                "updated_at": now,
            }
            for e in record.enrolments
        ]
    repository.insert_persons(session, inserts)
    repository.update_persons(session, updates)
    repository.replace_enrolments(session, touched, enrol_rows)
    return counts


def _record_batch(session: Session, label: str, counts: UpsertCounts) -> None:
    access.record(
        session,
        AccessRecord(
            action="person.import",
            subject_type="import",
            subject_id=label[:64],
            subject_display=label[:64],
            fields=persons_service.PERSONAL,
            detail={
                "created": counts.created,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
            },
        ),
    )


def import_persons(
    session: Session,
    *,
    rows: Sequence[Sequence[Any]],
    enrolments: Sequence[Sequence[Any]],
    records: Sequence[PersonRecord],
    unchanged: int,
    label: str,
) -> UpsertCounts:
    """One chunk of a bulk import, with one audit entry.

    ``rows`` are new persons sealed ahead by the import's workers (checked, ID numbers not
    registered; tuples in ``repository.PERSON_COLUMNS`` order) with their ``enrolments``;
    ``records`` are registered persons merged with the file's values, upserted like
    :func:`upsert_persons`; ``unchanged`` counts rows the caller found identical.
    """
    repository.insert_person_rows(session, rows)
    repository.insert_enrolment_rows(session, enrolments)
    counts = _upsert(session, records)
    counts.created += len(rows)
    counts.unchanged += unchanged
    _record_batch(session, label, counts)
    return counts


def existing_persons(
    session: Session, *, indexes: Sequence[bytes]
) -> dict[bytes, tuple[str, bytes]]:
    """ID-number blind index -> (person id, content digest) of the registered ones."""
    return repository.existing_by_index(session, indexes) if indexes else {}


def stored_records(session: Session, *, person_ids: Sequence[str]) -> dict[str, PersonRecord]:
    """Person id -> stored record, decrypted, for an import to merge a file's values into.

    The reads show nothing to anyone; the import's audit entry covers them.
    """
    with access.suppress_reads(session):
        persons = repository.persons_by_ids(session, person_ids)
        enrolments = repository.enrolments_for(session, [p.id for p in persons])
        return {
            p.id: persons_service.current_record(session, p, enrolments=enrolments[p.id])
            for p in persons
        }


def person_statuses(session: Session, *, person_ids: Sequence[str]) -> dict[str, str]:
    """Person id -> status (normal, deceased, moved_out) for many persons at once."""
    with access.suppress_reads(session):
        return {p.id: p.status for p in repository.persons_by_ids(session, person_ids)}


def person_ids(session: Session, *, id_numbers: Sequence[str]) -> dict[str, str]:
    """ID number -> person id for the registered ones among ``id_numbers``."""
    indexes = {
        fields.blind_index(n, purpose=sealing.ID_PURPOSE, session=session): n for n in id_numbers
    }
    found = repository.existing_by_index(session, list(indexes)) if indexes else {}
    return {indexes[index]: person_id for index, (person_id, _) in found.items()}
