from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from sscard.audit.models import AuditEntry
from sscard.errors import PermissionDenied, ValidationFailed
from sscard.kit import access, context, events
from sscard.kit.context import Actor
from sscard.registry.persons import service
from sscard.registry.persons.errors import (
    OutOfRegion,
    PersonDeceasedAlready,
    PersonExists,
    PersonNotFound,
    StaleVersion,
)
from sscard.registry.persons.events import PersonDeceased
from sscard.registry.persons.schemas import PersonCreate, PersonUpdate

from .conftest import JINING_MAN


def _register(session: Session, actor: Actor, **changes: object):  # type: ignore[no-untyped-def]
    return service.create_person(
        session, data=PersonCreate.model_validate({**JINING_MAN, **changes}), actor=actor
    )


def test_a_registered_person_is_found_by_id_number_and_shown_masked(
    session: Session, city_clerk: Actor
) -> None:
    _register(session, city_clerk)
    person = service.get_person(session, id_number="370811198503154515", actor=city_clerk)
    view = service.person_out(session, person)
    assert view.masked
    assert view.id_number == "370811********4515"
    assert view.name == "张**"
    assert view.phone == "138****2345"
    assert view.address == "****"
    assert view.gender.name == "男"
    assert view.residence_region.name == "山东省济宁市任城区"


def test_no_plain_id_number_name_or_phone_is_stored(session: Session, city_clerk: Actor) -> None:
    _register(session, city_clerk)
    session.flush()
    dump = repr(session.execute(text("SELECT * FROM registry_person")).all())
    for secret in ("370811198503154515", "张建国", "13853712345", "古槐路"):
        assert secret not in dump


def test_revealing_needs_a_purpose_and_is_audited(session: Session, city_clerk: Actor) -> None:
    _register(session, city_clerk)
    with context.acting(city_clerk):
        view = service.reveal_person(
            session, id_number="370811198503154515", purpose="办理社保卡补换", actor=city_clerk
        )
        session.commit()
    assert not view.masked and view.id_number == "370811198503154515" and view.name == "张建国"
    entry = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "person.reveal")
        .order_by(AuditEntry.seq.desc())
    ).first()
    assert entry is not None and entry.purpose == "办理社保卡补换"
    assert entry.subject_display == "370811********4515"


def test_revealing_without_the_permission_is_refused(session: Session, city_clerk: Actor) -> None:
    _register(session, city_clerk)
    reader = Actor(
        **{**city_clerk.__dict__}
        if False
        else {  # type: ignore[arg-type]
            "kind": city_clerk.kind,
            "id": "reader",
            "name": "只读",
            "region_code": "370800",
            "permissions": frozenset({"registry.read"}),
        }
    )
    with pytest.raises(PermissionDenied):
        service.reveal_person(session, id_number="370811198503154515", purpose="查看", actor=reader)


def test_every_bad_field_is_named_at_once(session: Session, city_clerk: Actor) -> None:
    body = {
        **JINING_MAN,
        "id_number": "370811198503154510",
        "phone": "12345",
        "household_region_code": "379999",
        "ethnicity": "99",
    }
    with pytest.raises(ValidationFailed) as refused:
        service.create_person(session, data=PersonCreate.model_validate(body), actor=city_clerk)
    fields = {p.field for p in refused.value.fields}
    assert {"id_number", "phone", "household_region_code", "ethnicity"} <= fields
    reasons = {p.field: p.reason for p in refused.value.fields}
    assert "校验位" in reasons["id_number"]


def test_birth_date_and_gender_must_agree_with_the_id_number(
    session: Session, city_clerk: Actor
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _register(session, city_clerk, birth_date=date(1985, 3, 16), gender="2")
    assert {p.field for p in refused.value.fields} == {"birth_date", "gender"}


def test_an_id_from_an_abolished_district_is_accepted(session: Session, city_clerk: Actor) -> None:
    # 370802 (the former 市中区 of Jining) was merged into 任城区 in 2013.
    person = _register(session, city_clerk, id_number="370802198503154519")
    assert person.id_number_masked.startswith("370802")


def test_the_same_id_number_cannot_be_registered_twice(session: Session, city_clerk: Actor) -> None:
    _register(session, city_clerk)
    with pytest.raises(PersonExists):
        _register(session, city_clerk, id_number="370811198503154515 ")


def test_a_district_clerk_sees_only_persons_of_the_district(
    session: Session, city_clerk: Actor, district_clerk: Actor
) -> None:
    _register(session, city_clerk)
    with pytest.raises(PersonNotFound):
        service.get_person(session, id_number="370811198503154515", actor=district_clerk)
    refused = [r for r in access.pending(session) if r.outcome == "denied"]
    assert [(r.action, r.subject_display) for r in refused] == [
        ("person.read", "370811********4515")
    ]
    with pytest.raises(OutOfRegion):
        _register(
            session, district_clerk, id_number="370811198001014512", birth_date=date(1980, 1, 1)
        )


def test_search_by_exact_name_and_birth_date(session: Session, city_clerk: Actor) -> None:
    _register(session, city_clerk)
    found = service.search_persons(
        session, actor=city_clerk, name="张建国", birth_date=date(1985, 3, 15)
    )
    assert found.total == 1 and found.items[0].name == "张**"
    assert service.search_persons(session, actor=city_clerk, name="张建").total == 0
    assert service.search_persons(session, actor=city_clerk, phone="138 5371 2345").total == 1


def test_an_update_changes_only_what_changed_and_refuses_a_stale_version(
    session: Session, city_clerk: Actor
) -> None:
    person = _register(session, city_clerk)
    first_version = person.version
    old_token = person.id_number_enc
    service.update_person(
        session,
        id_number="370811198503154515",
        data=PersonUpdate(phone="13953700000", version=first_version),
        actor=city_clerk,
    )
    assert person.version == first_version + 1
    assert person.id_number_enc == old_token
    assert person.phone_masked == "139****0000"
    with pytest.raises(StaleVersion):
        service.update_person(
            session,
            id_number="370811198503154515",
            data=PersonUpdate(address="新地址", version=first_version),
            actor=city_clerk,
        )


def test_a_death_is_recorded_once_and_announced(session: Session, city_clerk: Actor) -> None:
    heard: list[PersonDeceased] = []
    _register(session, city_clerk)
    with events.subscriptions():
        events.subscribe(PersonDeceased, lambda _s, e: heard.append(e))
        person = service.mark_deceased(
            session,
            id_number="370811198503154515",
            death_date=date(2025, 1, 2),
            source="counter",
            actor=city_clerk,
        )
    assert person.status == "deceased"
    assert [e.person_id for e in heard] == [person.id]
    with pytest.raises(PersonDeceasedAlready):
        service.mark_deceased(
            session,
            id_number="370811198503154515",
            death_date=date(2025, 1, 2),
            source="counter",
            actor=city_clerk,
        )
