"""Registry fixtures: an operator at a district hall, a city operator, demo records."""

from __future__ import annotations

from datetime import date

import pytest

from sscard.kit.context import Actor, ActorKind
from sscard.registry import fakes
from sscard.registry.persons.schemas import PersonCreate

PERMISSIONS = frozenset(
    {"registry.read", "registry.write", "registry.unmask", "registry.photo.read", "registry.import"}
)


@pytest.fixture
def city_clerk() -> Actor:
    return Actor(
        kind=ActorKind.operator,
        id="city-clerk",
        name="市级柜员",
        institution_code="PLATFORM",
        region_code="370800",
        roles=frozenset({"clerk"}),
        permissions=PERMISSIONS,
    )


@pytest.fixture
def district_clerk() -> Actor:
    return Actor(
        kind=ActorKind.operator,
        id="district-clerk",
        name="区级柜员",
        institution_code="HALL-YZ",
        region_code="370812",
        roles=frozenset({"clerk"}),
        permissions=PERMISSIONS,
    )


def fake_people(n: int, seed: int = 7) -> list[fakes.FakePerson]:
    employers = fakes.employers(seed, "370800", 3)
    communities = fakes.communities(seed, "370800", 3)
    return list(fakes.persons(seed, "370800", n, employers=employers, communities=communities))


def create_body(person: fakes.FakePerson, **changes: object) -> PersonCreate:
    values: dict[str, object] = {
        "id_number": person.id_number,
        "document_type": person.document_type,
        "name": person.name,
        "gender": person.gender,
        "ethnicity": person.ethnicity,
        "birth_date": person.birth_date,
        "phone": person.phone,
        "address": person.address,
        "household_region_code": person.household_region_code,
        "residence_region_code": person.residence_region_code,
    }
    values.update(changes)
    return PersonCreate.model_validate(values)


JINING_MAN = {
    "id_number": "370811198503154515",
    "document_type": "01",
    "name": "张建国",
    "gender": "1",
    "ethnicity": "01",
    "birth_date": date(1985, 3, 15),
    "phone": "13853712345",
    "address": "山东省济宁市任城区古槐路1号",
    "household_region_code": "370811",
    "residence_region_code": "370811",
}
