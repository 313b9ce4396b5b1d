"""Person use cases: find, register, change, reveal; deaths and moves; views for others.

Every person is looked up by a blind index of the ID number; every output is masked unless
an operator with ``registry.unmask`` states a purpose (audited). Operators see the persons
of their institution's region (residence or household region within it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from sscard.db import new_id, utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.iam import service as iam_service
from sscard.kit import access, events
from sscard.kit.access import AccessRecord
from sscard.kit.context import Actor
from sscard.registry import codes, identifiers, regions
from sscard.registry.names import normalise_name
from sscard.registry.persons import repository, sealing
from sscard.registry.persons.errors import (
    OutOfRegion,
    PersonDeceasedAlready,
    PersonExists,
    PersonNotFound,
    StaleVersion,
)
from sscard.registry.persons.events import PersonDeceased
from sscard.registry.persons.models import Enrolment, Person
from sscard.registry.persons.repository import PersonFilter
from sscard.registry.persons.schemas import (
    EnrolmentIn,
    EnrolmentOut,
    PersonCreate,
    PersonOut,
    PersonPage,
    PersonSummary,
    PersonUpdate,
)
from sscard.registry.records import EnrolmentRecord, PersonRecord, problems
from sscard.registry.schemas import named, region_named
from sscard.registry.units import service as units_service
from sscard.registry.units.models import Community, Employer
from sscard.registry.units.schemas import CommunityRef, EmployerRef

__all__ = ["HolderBrief", "PersonRecord", "EnrolmentRecord"]

PERSONAL = ("id_number", "name", "phone", "address")
"""The personal fields: encrypted at rest, masked in every output unless revealed."""


# ---- views ---------------------------------------------------------------------------


def _employer_ref(employer: Employer | None) -> EmployerRef | None:
    if employer is None:
        return None
    return EmployerRef(id=employer.id, credit_code=employer.credit_code, name=employer.name)


def _community_ref(community: Community | None) -> CommunityRef | None:
    return None if community is None else CommunityRef(code=community.code, name=community.name)


def _enrolment_out(e: Enrolment) -> EnrolmentOut:
    return EnrolmentOut(
        insurance_type=named(codes.INSURANCE_TYPE, e.insurance_type),
        status=named(codes.INSURANCE_STATUS, e.status),
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
        document_type=named(codes.DOCUMENT_TYPE, person.document_type),
        name=revealed.name if revealed else person.name_masked,
        gender=named(codes.GENDER, person.gender),
        ethnicity=named(codes.ETHNICITY, person.ethnicity),
        birth_date=person.birth_date,
        nationality=person.nationality,
        phone=revealed.phone if revealed else (person.phone_masked or None),
        address=revealed.address if revealed else ("****" if person.address_enc else None),
        household_region=region_named(person.household_region_code),
        residence_region=region_named(person.residence_region_code),
        employer=_employer_ref(person.employer),
        community=_community_ref(person.community),
        status=named(codes.PERSON_STATUS, person.status),
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
        gender=named(codes.GENDER, person.gender),
        birth_date=person.birth_date,
        residence_region=region_named(person.residence_region_code),
        employer=_employer_ref(person.employer),
        community=_community_ref(person.community),
        status=named(codes.PERSON_STATUS, person.status),
    )


# ---- finding persons -----------------------------------------------------------------


def _in_scope(actor: Actor, person: Person) -> bool:
    prefix = iam_service.region_scope(actor)
    return person.residence_region_code.startswith(
        prefix
    ) or person.household_region_code.startswith(prefix)


def _refused_out_of_region(session: Session, person: Person) -> PersonNotFound:
    """Audit a read refused by the region scope (kept though the request fails); the
    caller answers 404 as for an unknown person."""
    subject_id, masked = person.audit_subject()
    access.record(
        session,
        AccessRecord(
            action=f"{Person.__audit_type__}.read",
            subject_type=Person.__audit_type__,
            subject_id=subject_id,
            subject_display=masked,
            outcome="denied",
            detail={"reason": "out_of_region"},
        ),
        keep_on_failure=True,
    )
    return PersonNotFound()


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
    if person is None:
        raise PersonNotFound()
    if not _in_scope(actor, person):
        raise _refused_out_of_region(session, person)
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
    if person is None:
        raise PersonNotFound()
    if not _in_scope(actor, person):
        raise _refused_out_of_region(session, person)
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
    employers = [] if record.employer_id is None else [record.employer_id]
    communities = [record.community_code] if record.community_code else []
    missing_employers, missing_communities = units_service.missing_references(
        session, employer_ids=employers, community_codes=communities
    )
    found = []
    if missing_employers:
        found.append(FieldProblem("employer_id", f"单位 {record.employer_id} 不存在"))
    if missing_communities:
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
        **sealing.person_row(record, person_id=person_id, keys=sealing.keys(session), now=utcnow())
    )
    repository.add_person(session, person)
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
        values |= sealing.sealed_columns(
            new, person_id=person.id, keys=sealing.keys(session), only=changed
        )
    if new != old:
        values |= {
            "content_digest": sealing.content_digest(new, sealing.keys(session)),
            "updated_at": utcnow(),
        }
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


def mark_moved_out(session: Session, *, id_number: str, actor: Actor) -> Person:
    """Record that a person moved out of the region (their enrolments end elsewhere)."""
    person = get_person(session, id_number=id_number, actor=actor)
    if person.status != "moved_out":
        person.status, person.updated_at = "moved_out", utcnow()
        _flush(session)
    return person


# ---- for other components -----------------------------------------------------------


def person_display(session: Session, *, person_id: str) -> tuple[str, str]:
    """(masked ID number, masked name) of a person, for other components' outputs."""
    person = get_person_by_id(session, person_id=person_id)
    return person.id_number_masked, person.name_masked


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
    """The name of a gender code (男, 女), or None."""
    return codes.name_of(codes.GENDER, code)


# ---- choices offered in forms --------------------------------------------------------


def code_choices() -> dict[str, Mapping[str, str]]:
    """The code tables a person form offers (document types, genders, ethnicities, insurance)."""
    return {
        "document_types": codes.DOCUMENT_TYPE.entries,
        "genders": codes.GENDER.entries,
        "ethnicities": codes.ETHNICITY.entries,
        "insurance_types": codes.INSURANCE_TYPE.entries,
        "insurance_statuses": codes.INSURANCE_STATUS.entries,
    }
