"""Fixtures shared by the card components: a bank, a number range, persons with photos,
an operator with the registry and issuance permissions."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session
from tests.support import citizen_id, person_body

from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType
from sscard.iam.schemas import InstitutionCreate
from sscard.issuance.cards import number_service
from sscard.issuance.cards.schemas import RangeIn
from sscard.kit.context import Actor, ActorKind
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.schemas import PersonCreate
from sscard.registry.photos import portraits
from sscard.registry.photos import service as registry_photos

PERMISSIONS = frozenset(
    {
        "registry.read",
        "registry.write",
        "registry.unmask",
        "registry.photo.read",
        "issuance.read",
        "issuance.apply",
        "issuance.manage",
        "issuance.batch",
        "issuance.ranges",
    }
)


@pytest.fixture
def clerk() -> Actor:
    return Actor(
        kind=ActorKind.operator,
        id="card-clerk",
        name="卡管柜员",
        institution_code="PLATFORM",
        institution_type="hrss_bureau",
        region_code="370800",
        permissions=PERMISSIONS,
    )


@pytest.fixture
def bank(session: Session) -> str:
    code = f"BK{secrets.token_hex(3).upper()}"
    iam_service.create_institution(
        session,
        data=InstitutionCreate(
            code=code, name="测试合作银行", type=InstitutionType.bank, region_code="370800"
        ),
    )
    return code


@pytest.fixture
def numbers(session: Session) -> None:
    prefix = "T" + secrets.token_hex(1).upper()
    number_service.add_range(
        session, data=RangeIn(region_code="370800", prefix=prefix, start=1, end=500)
    )


@pytest.fixture
def person(session: Session, clerk: Actor) -> Callable[..., str]:
    """Register a person with a photo; returns the ID number."""

    def make(*, photo: bool = True, born: str | None = None, **fields: object) -> str:
        number = citizen_id("370811", born)
        registry_service.create_person(
            session, data=PersonCreate.model_validate(person_body(number, **fields)), actor=clerk
        )
        if photo:
            registry_photos.put_photo(
                session, id_number=number, data=portraits.demo_portrait(3), actor=clerk
            )
        return number

    return make
