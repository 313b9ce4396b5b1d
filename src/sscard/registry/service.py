"""Registry use cases: persons, enrolments, deaths, photos, employers, communities, bulk upsert.

Every person is looked up by a blind index of the ID number; every output is masked unless
an operator with ``registry.unmask`` states a purpose (audited). Operators see the persons
of their institution's region (residence or household region within it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from sscard.crypto import fields
from sscard.db import new_id, utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.iam import service as iam_service
from sscard.kit import access, events
from sscard.kit.access import AccessRecord
from sscard.kit.context import Actor
from sscard.registry import codes, identifiers, photos, regions, repository, sealing
from sscard.registry.errors import (
    CommunityExists,
    CommunityNotFound,
    EmployerExists,
    EmployerNotFound,
    OutOfRegion,
    PersonDeceasedAlready,
    PersonExists,
    PersonNotFound,
    PhotoNotFound,
    StaleVersion,
)
from sscard.registry.events import PersonDeceased
from sscard.registry.models import Community, Employer, Enrolment, Person, Photo
from sscard.registry.names import normalise_name
from sscard.registry.records import EnrolmentRecord, PersonRecord, problems
from sscard.registry.repository import PersonFilter
from sscard.registry.schemas import (
    CommunityCreate,
    CommunityOut,
    CommunityRef,
    EmployerCreate,
    EmployerOut,
    EmployerRef,
    EmployerUpdate,
    EnrolmentIn,
    EnrolmentOut,
    NamedCode,
    PersonCreate,
    PersonOut,
    PersonPage,
    PersonSummary,
    PersonUpdate,
    PhotoInfo,
)
from sscard.settings import get_settings

__all__ = ["PersonDeceased", "PersonRecord", "EnrolmentRecord", "UpsertCounts"]

PERSONAL = ("id_number", "name", "phone", "address")


# ---- views ---------------------------------------------------------------------------


def _named(code_set: codes.CodeSet, code: str) -> NamedCode:
    return NamedCode(code=code, name=codes.name_of(code_set, code))


def _region(code: str) -> NamedCode:
    found = regions.region(code)
    return NamedCode(code=code, name=found.full_name if found else None)


def _employer_ref(employer: Employer | None) -> EmployerRef | None:
    if employer is None:
        return None
    return EmployerRef(id=employer.id, credit_code=employer.credit_code, name=employer.name)


def _community_ref(community: Community | None) -> CommunityRef | None:
    return None if community is None else CommunityRef(code=community.code, name=community.name)


def _enrolment_out(e: Enrolment) -> EnrolmentOut:
    return EnrolmentOut(
        insurance_type=_named(codes.INSURANCE_TYPE, e.insurance_type),
        status=_named(codes.INSURANCE_STATUS, e.status),
        start_date=e.start_date,
        end_date=e.end_date,
    )


def person_out(
    session: Session, person: Person, *, revealed: sealing.Revealed | None = None
) -> PersonOut:
    """The person as an operator sees them; masked unless ``revealed`` is given."""
    return PersonOut(
        id=person.id,
        masked=revealed is None,
        id_number=revealed.id_number if revealed else person.id_number_masked,
        document_type=_named(codes.DOCUMENT_TYPE, person.document_type),
        name=revealed.name if revealed else person.name_masked,
        gender=_named(codes.GENDER, person.gender),
        ethnicity=_named(codes.ETHNICITY, person.ethnicity),
        birth_date=person.birth_date,
        nationality=person.nationality,
        phone=revealed.phone if revealed else (person.phone_masked or None),
        address=revealed.address if revealed else ("****" if person.address_enc else None),
        household_region=_region(person.household_region_code),
        residence_region=_region(person.residence_region_code),
        employer=_employer_ref(person.employer),
        community=_community_ref(person.community),
        status=_named(codes.PERSON_STATUS, person.status),
        death_date=person.death_date,
        enrolments=[_enrolment_out(e) for e in repository.enrolments_of(session, person.id)],
        has_photo=repository.has_photo(session, person.id),
        version=person.version,
        created_at=person.created_at,
        updated_at=person.updated_at,
    )


def person_summary(person: Person) -> PersonSummary:
    return PersonSummary(
        id=person.id,
        id_number=person.id_number_masked,
        name=person.name_masked,
        gender=_named(codes.GENDER, person.gender),
        birth_date=person.birth_date,
        residence_region=_region(person.residence_region_code),
        employer=_employer_ref(person.employer),
        community=_community_ref(person.community),
        status=_named(codes.PERSON_STATUS, person.status),
    )


# ---- finding persons -----------------------------------------------------------------


def _in_scope(actor: Actor, person: Person) -> bool:
    prefix = iam_service.region_scope(actor)
    return person.residence_region_code.startswith(
        prefix
    ) or person.household_region_code.startswith(prefix)


def find_person(session: Session, *, id_number: str) -> Person | None:
    """The person with this ID number, whatever the scope (for other components)."""
    number = identifiers.normalise_id_number(id_number)
    if not number:
        return None
    candidates = sealing.index_candidates(number, sealing.ID_PURPOSE, session)
    return repository.person_by_index(session, candidates)


def get_person(session: Session, *, id_number: str, actor: Actor) -> Person:
    """The person with ``id_number`` within the actor's region, or PersonNotFound."""
    person = find_person(session, id_number=id_number)
    if person is None or not _in_scope(actor, person):
        raise PersonNotFound()
    return person


def get_person_by_id(session: Session, *, person_id: str) -> Person:
    """The person with this internal id (for other components), or PersonNotFound."""
    person = repository.person_by_id(session, person_id)
    if person is None:
        raise PersonNotFound()
    return person


def get_person_in_scope(session: Session, *, person_id: str, actor: Actor) -> Person:
    """The person with this internal id within the actor's region, or PersonNotFound."""
    person = repository.person_by_id(session, person_id)
    if person is None or not _in_scope(actor, person):
        raise PersonNotFound()
    return person


def id_number_of(session: Session, *, person_id: str, actor: Actor) -> str:
    """The ID number of a person in the actor's region, for the functions keyed by it.

    Pages address persons by internal id so that ID numbers stay out of URLs, access logs
    and browser history; the number found here is used on the server and never shown.
    """
    person = get_person_in_scope(session, person_id=person_id, actor=actor)
    return sealing.reveal(person, session).id_number


def search_persons(
    session: Session,
    *,
    actor: Actor,
    name: str | None = None,
    birth_date: date | None = None,
    employer_id: int | None = None,
    community_code: str | None = None,
    phone: str | None = None,
    status: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> PersonPage:
    """Persons by exact name (with birth date), employer, community or phone; masked."""
    flt = PersonFilter(
        name_indexes=_candidates(name, sealing.NAME_PURPOSE, session),
        birth_date=birth_date,
        employer_id=employer_id,
        community_code=community_code,
        phone_indexes=_candidates(
            identifiers.normalise_mobile(phone) if phone else None, sealing.PHONE_PURPOSE, session
        ),
        status=status,
        region_prefix=iam_service.region_scope(actor),
    )
    rows, total = repository.search_persons(
        session, flt, offset=(page - 1) * page_size, limit=page_size
    )
    items = [person_summary(p) for p in rows]
    return PersonPage(items=items, total=total, page=page, page_size=page_size)


def _candidates(value: str | None, purpose: str, session: Session) -> list[bytes] | None:
    if value is None or not value.strip():
        return None
    text = normalise_name(value) if purpose == sealing.NAME_PURPOSE else value.strip()
    return sealing.index_candidates(text, purpose, session)


def reveal_person(session: Session, *, id_number: str, purpose: str, actor: Actor) -> PersonOut:
    """The person's full details for a stated purpose; needs ``registry.unmask``; audited."""
    iam_service.authorize(actor, "registry.unmask")
    person = get_person(session, id_number=id_number, actor=actor)
    access.record(
        session,
        AccessRecord(
            action="person.reveal",
            subject_type="person",
            subject_id=person.id,
            subject_display=person.id_number_masked,
            fields=PERSONAL,
            purpose=purpose,
        ),
    )
    return person_out(session, person, revealed=sealing.reveal(person, session))


# ---- creating and changing persons ---------------------------------------------------


def _enrolments(items: Sequence[EnrolmentIn]) -> tuple[EnrolmentRecord, ...]:
    return tuple(
        EnrolmentRecord(e.insurance_type, e.status, e.start_date, e.end_date) for e in items
    )


def record_from(data: PersonCreate) -> PersonRecord:
    """The normalised record of a registration form or API body."""
    return PersonRecord(
        id_number=data.id_number,
        document_type=data.document_type,
        name=data.name,
        gender=data.gender,
        ethnicity=data.ethnicity,
        birth_date=data.birth_date,
        nationality=data.nationality,
        phone=data.phone,
        address=data.address,
        household_region_code=data.household_region_code,
        residence_region_code=data.residence_region_code,
        employer_id=data.employer_id,
        community_code=data.community_code,
        enrolments=_enrolments(data.enrolments),
    ).normalised()


def _reference_problems(session: Session, record: PersonRecord) -> list[FieldProblem]:
    found = []
    if record.employer_id is not None and repository.employer(session, record.employer_id) is None:
        found.append(FieldProblem("employer_id", f"单位 {record.employer_id} 不存在"))
    if record.community_code and repository.community(session, record.community_code) is None:
        found.append(FieldProblem("community_code", f"社区 {record.community_code} 不存在"))
    return found


def check_record(session: Session, record: PersonRecord, *, actor: Actor) -> None:
    """Raise ValidationFailed with every problem, or OutOfRegion, before anything is written."""
    found = problems(record) + _reference_problems(session, record)
    if found:
        raise ValidationFailed(found)
    prefix = iam_service.region_scope(actor)
    if not (
        record.residence_region_code.startswith(prefix)
        or record.household_region_code.startswith(prefix)
    ):
        raise OutOfRegion(
            f"该人员的户籍地和居住地都不在本机构服务区域（{actor.region_code}）内",
            fields=[FieldProblem("residence_region_code", "不在本机构服务区域内")],
        )


def _write_enrolments(session: Session, person_id: str, record: PersonRecord) -> None:
    now = utcnow()
    rows = [
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
    repository.replace_enrolments(session, [person_id], rows)


def create_person(session: Session, *, data: PersonCreate, actor: Actor) -> Person:
    """Register a person (validated, encrypted, audited)."""
    record = record_from(data)
    check_record(session, record, actor=actor)
    if find_person(session, id_number=record.id_number) is not None:
        raise PersonExists(
            "该证件号码已登记", fields=[FieldProblem("id_number", "该证件号码已登记")]
        )
    person_id = new_id()
    person = Person(
        **sealing.person_row(record, person_id=person_id, session=session, now=utcnow())
    )
    session.add(person)
    session.flush()
    _write_enrolments(session, person_id, record)
    return person


def current_record(
    session: Session, person: Person, *, enrolments: Sequence[Enrolment] | None = None
) -> PersonRecord:
    """The person's record as stored (personal fields decrypted)."""
    clear = sealing.reveal(person, session)
    stored = repository.enrolments_of(session, person.id) if enrolments is None else enrolments
    return PersonRecord(
        id_number=clear.id_number,
        document_type=person.document_type,
        name=clear.name,
        gender=person.gender,
        ethnicity=person.ethnicity,
        birth_date=person.birth_date,
        nationality=person.nationality,
        phone=clear.phone,
        address=clear.address,
        household_region_code=person.household_region_code,
        residence_region_code=person.residence_region_code,
        employer_id=person.employer_id,
        community_code=person.community_code,
        enrolments=tuple(
            EnrolmentRecord(e.insurance_type, e.status, e.start_date, e.end_date) for e in stored
        ),
    )


def _merged(old: PersonRecord, data: PersonUpdate) -> PersonRecord:
    changes = data.model_dump(exclude_unset=True, exclude={"version", "enrolments"})
    merged = replace(old, **changes)
    if data.enrolments is not None:
        merged = replace(merged, enrolments=_enrolments(data.enrolments))
    return merged.normalised()


def update_person(session: Session, *, id_number: str, data: PersonUpdate, actor: Actor) -> Person:
    """Change a person's fields; refused if ``data.version`` is not the current version."""
    person = get_person(session, id_number=id_number, actor=actor)
    if data.version is not None and data.version != person.version:
        raise StaleVersion()
    old = current_record(session, person)
    new = _merged(old, data)
    check_record(session, new, actor=actor)
    changed = {f for f in PERSONAL if getattr(old, f) != getattr(new, f)}
    values = dict(sealing.plain_columns(new))
    if changed:
        values |= sealing.sealed_columns(new, person_id=person.id, session=session, only=changed)
    if new != old:
        values |= {"content_digest": sealing.content_digest(new, session), "updated_at": utcnow()}
    with session.no_autoflush:
        for column, value in values.items():
            if getattr(person, column) != value:
                setattr(person, column, value)
    if new.enrolments != old.enrolments:
        _write_enrolments(session, person.id, new)
    _flush(session)
    return person


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as exc:
        raise StaleVersion() from exc


def mark_deceased(
    session: Session, *, id_number: str, death_date: date, source: str, actor: Actor
) -> Person:
    """Record a death; other components hear of it through ``PersonDeceased``."""
    person = get_person(session, id_number=id_number, actor=actor)
    if person.status == "deceased":
        raise PersonDeceasedAlready(f"该人员已于 {person.death_date} 登记死亡")
    if death_date > date.today() or death_date < person.birth_date:
        raise ValidationFailed(
            [FieldProblem("death_date", "死亡日期应在出生日期之后，且不能晚于今天")]
        )
    person.status, person.death_date, person.updated_at = "deceased", death_date, utcnow()
    _flush(session)
    events.publish(
        session,
        PersonDeceased(
            person_id=person.id,
            region_code=person.region_code,
            death_date=death_date,
            source=source,
        ),
    )
    return person


# ---- photos --------------------------------------------------------------------------


def photo_rules() -> photos.PhotoRules:
    settings = get_settings()
    return photos.PhotoRules(
        format=settings.photo_format,
        width=settings.photo_width,
        height=settings.photo_height,
        min_bytes=settings.photo_min_kb * photos.KB,
        max_bytes=settings.photo_max_kb * photos.KB,
    )


def put_photo(session: Session, *, id_number: str, data: bytes, actor: Actor) -> PhotoInfo:
    """Upload or replace a person's card photo (checked, EXIF stripped, encrypted)."""
    person = get_person(session, id_number=id_number, actor=actor)
    found = photos.check_photo(data, photo_rules())
    if found:
        raise ValidationFailed(found)
    clean = photos.normalise_photo(data)
    content = fields.encrypt_blob(
        clean, table="registry_photo", column="content_enc", row_id=person.id, session=session
    )
    rules = photo_rules()
    photo = repository.photo_of(session, person.id) or Photo(person_id=person.id)
    photo.content_enc, photo.width, photo.height = content, rules.width, rules.height
    photo.size_bytes, photo.uploaded_at, photo.uploaded_by = len(clean), utcnow(), actor.id
    session.add(photo)
    _record_photo(session, person, "person.photo.write")
    session.flush()
    return photo_info(photo)


def photo_info(photo: Photo) -> PhotoInfo:
    return PhotoInfo(
        width=photo.width,
        height=photo.height,
        size_bytes=photo.size_bytes,
        uploaded_at=photo.uploaded_at,
        uploaded_by=photo.uploaded_by,
    )


def get_photo(session: Session, *, id_number: str, actor: Actor) -> bytes:
    """The photo's JPEG bytes (permission ``registry.photo.read``; audited)."""
    iam_service.authorize(actor, "registry.photo.read")
    person = get_person(session, id_number=id_number, actor=actor)
    photo = repository.photo_of(session, person.id)
    if photo is None:
        raise PhotoNotFound()
    _record_photo(session, person, "person.photo.read")
    return fields.decrypt_blob(
        photo.content_enc,
        table="registry_photo",
        column="content_enc",
        row_id=person.id,
        session=session,
    )


def _record_photo(session: Session, person: Person, action: str) -> None:
    access.record(
        session,
        AccessRecord(
            action=action,
            subject_type="person",
            subject_id=person.id,
            subject_display=person.id_number_masked,
            fields=("photo",),
        ),
    )


# ---- employers and communities -------------------------------------------------------


def employer_out(session: Session, employer: Employer) -> EmployerOut:
    return EmployerOut(
        id=employer.id,
        credit_code=employer.credit_code,
        name=employer.name,
        region=_region(employer.region_code),
        address=employer.address,
        contact_name=employer.contact_name,
        contact_phone=employer.contact_phone,
        status=employer.status,
        persons=repository.count_persons(session, employer_id=employer.id),
    )


def create_employer(session: Session, *, data: EmployerCreate) -> Employer:
    """Register an employer (单位) by its unified social credit code."""
    credit_code = identifiers.normalise_credit_code(data.credit_code)
    found = identifiers.credit_code_problems(credit_code)
    found += identifiers.validate_region_code(data.region_code, field="region_code")
    if found:
        raise ValidationFailed(found)
    if repository.employer_by_credit_code(session, credit_code) is not None:
        raise EmployerExists(
            f"统一社会信用代码 {credit_code} 已登记",
            fields=[FieldProblem("credit_code", "已登记")],
        )
    now = utcnow()
    employer = Employer(
        credit_code=credit_code, name=data.name, region_code=data.region_code,
        address=data.address, contact_name=data.contact_name, contact_phone=data.contact_phone,
        status="active", created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(employer)
    session.flush()
    return employer


def get_employer(session: Session, *, employer_id: int) -> Employer:
    """The employer with this id, or EmployerNotFound."""
    employer = repository.employer(session, employer_id)
    if employer is None:
        raise EmployerNotFound(f"单位 {employer_id} 不存在")
    return employer


def get_employer_by_credit_code(session: Session, *, credit_code: str) -> Employer:
    """The employer with this credit code, or EmployerNotFound."""
    code = identifiers.normalise_credit_code(credit_code)
    employer = repository.employer_by_credit_code(session, code)
    if employer is None:
        raise EmployerNotFound(f"统一社会信用代码 {code} 未登记")
    return employer


def update_employer(session: Session, *, employer_id: int, data: EmployerUpdate) -> Employer:
    """Change an employer's name, region, address, contact or status."""
    employer = get_employer(session, employer_id=employer_id)
    changes = data.model_dump(exclude_unset=True)
    if "region_code" in changes:
        found = identifiers.validate_region_code(changes["region_code"], field="region_code")
        if found:
            raise ValidationFailed(found)
    for key, value in changes.items():
        setattr(employer, key, value)
    employer.updated_at = utcnow()
    return employer


def list_employers(
    session: Session, *, actor: Actor, name: str | None = None, page: int = 1, page_size: int = 20
) -> tuple[list[Employer], int]:
    """Employers in the actor's region, optionally by part of the name."""
    return repository.employers(
        session, name=name, region_prefix=iam_service.region_scope(actor),
        offset=(page - 1) * page_size, limit=page_size,
    )  # fmt: skip


def community_out(session: Session, community: Community) -> CommunityOut:
    return CommunityOut(
        code=community.code,
        township=_region(community.township_code),
        name=community.name,
        region=_region(community.region_code),
        persons=repository.count_persons(session, community_code=community.code),
    )


def create_community(session: Session, *, data: CommunityCreate) -> Community:
    """Register a community under a current street or township (9-digit code)."""
    township = data.code[:9]
    found = identifiers.validate_township_code(township, field="code")
    if found:
        raise ValidationFailed(found)
    if repository.community(session, data.code) is not None:
        raise CommunityExists(
            f"社区代码 {data.code} 已存在", fields=[FieldProblem("code", "已存在")]
        )
    community = Community(
        code=data.code, township_code=township, name=data.name, region_code=township[:6],
        created_at=utcnow(),
    )  # fmt: skip
    session.add(community)
    session.flush()
    return community


def get_community(session: Session, *, code: str) -> Community:
    """The community with this code, or CommunityNotFound."""
    community = repository.community(session, code)
    if community is None:
        raise CommunityNotFound(f"社区 {code} 不存在")
    return community


def list_communities(
    session: Session,
    *,
    actor: Actor,
    township_code: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[Community], int]:
    """Communities in the actor's region, optionally of one township."""
    return repository.communities(
        session, township_code=township_code, region_prefix=iam_service.region_scope(actor),
        offset=(page - 1) * page_size, limit=page_size,
    )  # fmt: skip


# ---- bulk upsert (imports and demo data) ---------------------------------------------


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
    digests = {r.id_number: sealing.content_digest(r, session) for r in records}
    indexes = {
        r.id_number: fields.blind_index(r.id_number, purpose=sealing.ID_PURPOSE, session=session)
        for r in records
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
        row = sealing.person_row(record, person_id=person_id, session=session, now=now)
        if found:
            row.pop("created_at"), row.pop("status"), row.pop("death_date"), row.pop("version")
            updates.append(row)
            counts.updated += 1
        else:
            inserts.append(row)
            counts.created += 1
        touched.append(person_id)
        enrol_rows += [
            {"person_id": person_id, "insurance_type": e.insurance_type, "status": e.status,
             "start_date": e.start_date, "end_date": e.end_date, "updated_at": now}
            for e in record.enrolments
        ]  # fmt: skip
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
            fields=PERSONAL,
            detail={"created": counts.created, "updated": counts.updated,
                    "unchanged": counts.unchanged},
        ),
    )  # fmt: skip


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
        return {p.id: current_record(session, p, enrolments=enrolments[p.id]) for p in persons}


def person_statuses(session: Session, *, person_ids: Sequence[str]) -> dict[str, str]:
    """Person id -> status (normal, deceased, moved_out) for many persons at once."""
    with access.suppress_reads(session):
        return {p.id: p.status for p in repository.persons_by_ids(session, person_ids)}


def photos_bytes(session: Session, *, person_ids: Sequence[str]) -> dict[str, bytes]:
    """Person id -> card photo (JPEG) for those of ``person_ids`` that have one."""
    return {
        pid: fields.decrypt_blob(
            content, table="registry_photo", column="content_enc", row_id=pid, session=session
        )
        for pid, content in repository.photos_for(session, person_ids).items()
    }


def employer_directory(session: Session) -> dict[str, int]:
    """Credit code -> id of every registered employer (for an import's workers)."""
    return repository.employer_directory(session)


def person_ids(session: Session, *, id_numbers: Sequence[str]) -> dict[str, str]:
    """ID number -> person id for the registered ones among ``id_numbers``."""
    indexes = {
        fields.blind_index(n, purpose=sealing.ID_PURPOSE, session=session): n for n in id_numbers
    }
    found = repository.existing_by_index(session, list(indexes)) if indexes else {}
    return {indexes[index]: person_id for index, (person_id, _) in found.items()}


def photo_owners(session: Session, *, person_ids: Sequence[str]) -> set[str]:
    """Which of these persons have a card photo."""
    return repository.photo_owners(session, person_ids) if person_ids else set()


def mark_moved_out(session: Session, *, id_number: str, actor: Actor) -> Person:
    """Record that a person moved out of the region (their enrolments end elsewhere)."""
    person = get_person(session, id_number=id_number, actor=actor)
    if person.status != "moved_out":
        person.status, person.updated_at = "moved_out", utcnow()
        _flush(session)
    return person


def missing_references(
    session: Session, *, employer_ids: Sequence[int], community_codes: Sequence[str]
) -> tuple[set[int], set[str]]:
    """Which of these employer ids and community codes do not exist (for imports)."""
    known_employers = repository.existing_employer_ids(session, list(employer_ids))
    known_communities = repository.existing_community_codes(session, list(community_codes))
    return set(employer_ids) - known_employers, set(community_codes) - known_communities


def employer_names(session: Session, *, ids: Sequence[int]) -> dict[int, str]:
    """employer id -> name for the registered ones among ``ids`` (one query)."""
    return repository.employer_names(session, list(ids)) if ids else {}


def community_names(session: Session, *, codes: Sequence[str]) -> dict[str, str]:
    """community code -> name for the registered ones among ``codes`` (one query)."""
    return repository.community_names(session, list(codes)) if codes else {}


def employer_ids(session: Session, *, credit_codes: Sequence[str]) -> dict[str, int]:
    """credit code -> employer id for the registered ones among ``credit_codes``."""
    return repository.employer_ids_by_credit_code(session, list(credit_codes))


def register_subscribers() -> None:
    """Declare the encrypted person table for key rotation."""
    sealing.register()


def has_photo(session: Session, *, person_id: str) -> bool:
    """Whether the person has a card photo (card applications need one)."""
    return repository.has_photo(session, person_id)


def person_display(session: Session, *, person_id: str) -> tuple[str, str]:
    """(masked ID number, masked name) of a person, for other components' outputs."""
    person = get_person_by_id(session, person_id=person_id)
    return person.id_number_masked, person.name_masked


def photo_bytes(session: Session, *, person_id: str) -> bytes | None:
    """The person's card photo (JPEG), for a real-person check; None if there is none."""
    photo = repository.photo_of(session, person_id)
    if photo is None:
        return None
    return fields.decrypt_blob(
        photo.content_enc, table="registry_photo", column="content_enc", row_id=person_id,
        session=session,
    )  # fmt: skip


def reveal_fields(session: Session, person: Person) -> sealing.Revealed:
    """The person's personal fields in clear, for a caller that audits what it discloses."""
    return sealing.reveal(person, session)


def canonical_name(value: str) -> str:
    """A name in the one form the registry stores (middle dots unified, spaces trimmed)."""
    return normalise_name(value)


@dataclass(frozen=True, slots=True)
class HolderBrief:
    """A person's masked identity, for verifications that must be quick."""

    person_id: str
    id_number_masked: str
    name_masked: str
    gender: str
    birth_date: date
    residence_region_code: str
    status: str


def holder_brief(session: Session, *, person_id: str) -> HolderBrief:
    """The masked identity of a person (one light query; no personal field decrypted)."""
    row = repository.brief(session, person_id)
    if row is None:
        raise PersonNotFound()
    return HolderBrief(
        person_id=row["id"],
        id_number_masked=row["id_number_masked"],
        name_masked=row["name_masked"],
        gender=row["gender"],
        birth_date=row["birth_date"],
        residence_region_code=row["residence_region_code"],
        status=row["status"],
    )


def region_name(code: str) -> str | None:
    """The full name of a region code (山东省济宁市任城区), or None."""
    found = regions.region(code)
    return found.full_name if found else None


def gender_name(code: str) -> str | None:
    return codes.name_of(codes.GENDER, code)
