import random
from collections import Counter
from datetime import date
from functools import cache
from itertools import islice

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sscard.registry import codes, fakes, regions
from sscard.registry.identifiers import (
    parse_citizen_id,
    validate_credit_code,
    validate_document,
    validate_mobile,
    validate_region_code,
    validate_township_code,
)
from sscard.registry.names import validate_name

JINING = "370800"


@cache
def jining_employers(seed: int = 1) -> list[fakes.FakeEmployer]:
    return fakes.employers(seed, JINING, 60)


@cache
def jining_communities(seed: int = 1) -> list[fakes.FakeCommunity]:
    return fakes.communities(seed, JINING, 80)


def jining_persons(seed: int, n: int) -> list[fakes.FakePerson]:
    return list(
        fakes.persons(
            seed,
            JINING,
            n,
            employers=jining_employers(seed),
            communities=jining_communities(seed),
        )
    )


@cache
def two_thousand() -> list[fakes.FakePerson]:
    return jining_persons(2026, 2000)


def person_problems(person: fakes.FakePerson) -> list[object]:
    return [
        *validate_document(
            person.document_type,
            person.id_number,
            birth_date=person.birth_date,
            gender=person.gender,
            today=fakes.REFERENCE_DATE,
        ),
        *validate_name(person.name, document_type=person.document_type),
        *validate_mobile(person.phone),
        *codes.validate_code("gender", person.gender),
        *codes.validate_code("ethnicity", person.ethnicity),
        *codes.validate_code("person_status", person.status),
        *validate_region_code(person.household_region_code),
        *validate_region_code(person.residence_region_code),
        *validate_township_code(person.township_code),
    ]


def test_the_same_seed_gives_the_same_people_employers_and_communities() -> None:
    assert jining_persons(5, 300) == jining_persons(5, 300)
    assert fakes.employers(5, JINING, 30) == fakes.employers(5, JINING, 30)
    assert fakes.communities(5, JINING, 30) == fakes.communities(5, JINING, 30)


def test_a_different_seed_gives_different_people() -> None:
    first, second = jining_persons(5, 50), jining_persons(6, 50)
    assert {p.id_number for p in first}.isdisjoint({p.id_number for p in second})
    assert fakes.employers(5, JINING, 5) != fakes.employers(6, JINING, 5)


def test_a_longer_run_starts_with_the_shorter_one() -> None:
    assert jining_persons(5, 40) == jining_persons(5, 400)[:40]


def test_every_fake_person_passes_every_validator() -> None:
    for person in two_thousand():
        assert person_problems(person) == [], person


def test_id_numbers_are_unique_and_carry_current_jining_counties() -> None:
    people = two_thousand()
    assert len({p.id_number for p in people}) == len(people)
    counties = {county.code for county in regions.counties_of(JINING)}
    assert {p.id_number[:6] for p in people} == counties
    assert all(p.household_region_code == p.id_number[:6] for p in people)


def test_gender_and_birth_date_agree_with_the_id_number() -> None:
    for person in two_thousand():
        parsed = parse_citizen_id(person.id_number)
        assert (parsed.gender, parsed.birth_date) == (person.gender, person.birth_date)
        assert fakes.FIRST_BIRTH <= person.birth_date <= fakes.LAST_BIRTH


def test_the_population_looks_like_a_real_one() -> None:
    people = two_thousand()
    ethnicities = Counter(p.ethnicity for p in people)
    assert ethnicities["01"] > 0.85 * len(people)
    assert len(ethnicities) > 3
    assert any("·" in p.name for p in people)
    assert any(p.name[:2] in ("欧阳", "司马", "诸葛", "上官", "皇甫", "司徒") for p in people)
    genders = Counter(p.gender for p in people)
    assert 0.4 < genders["1"] / len(people) < 0.6
    assert {p.nationality for p in people} == {"CHN"}
    assert all(p.region_code == JINING for p in people)


def test_addresses_name_the_township_the_person_lives_in() -> None:
    for person in two_thousand()[:200]:
        township = regions.region(person.township_code)
        assert township is not None
        assert person.address.startswith(township.full_name)
        assert township.parent_code == person.residence_region_code


def test_people_live_in_the_communities_and_work_for_the_employers_given() -> None:
    people = two_thousand()
    community_codes = {c.code for c in jining_communities(2026)}
    employer_codes = {e.credit_code for e in jining_employers(2026)}
    assert {p.community_code for p in people} <= community_codes | {None}
    assert {p.employer_credit_code for p in people} <= employer_codes | {None}
    assert any(p.employer_credit_code for p in people)


def age(person: fakes.FakePerson) -> float:
    return (fakes.REFERENCE_DATE - person.birth_date).days / 365.2425


def test_insurance_enrolments_are_plausible_for_the_age() -> None:
    for person in two_thousand():
        types = {e.insurance_type for e in person.insurances}
        assert person.insurances, person
        if age(person) < 16:
            assert types == {"390"}
        if person.employer_credit_code:
            assert {"110", "310", "210", "410", "510"} <= types
        for enrolment in person.insurances:
            assert enrolment.insurance_type in codes.INSURANCE_TYPE.entries
            assert enrolment.status in codes.INSURANCE_STATUS.entries
            assert person.birth_date <= enrolment.start_date <= fakes.REFERENCE_DATE
            assert enrolment.end_date is None or enrolment.start_date <= enrolment.end_date


def test_the_deceased_are_old_and_their_insurance_has_ended() -> None:
    deceased = [p for p in jining_persons(3, 20_000) if p.status == "deceased"]
    assert deceased
    for person in deceased:
        assert person.death_date is not None
        assert person.birth_date < person.death_date <= fakes.REFERENCE_DATE
        assert age(person) >= 70
        assert all(e.status == "terminated" for e in person.insurances)


def test_every_fake_employer_has_a_credit_code_passing_both_checks() -> None:
    employers = fakes.employers(9, JINING, 500)
    assert len({e.credit_code for e in employers}) == 500
    for employer in employers:
        assert validate_credit_code(employer.credit_code) == []
        assert employer.credit_code[2:8] == employer.region_code
        assert validate_township_code(employer.township_code) == []
        assert validate_mobile(employer.contact_phone) == []
        assert validate_name(employer.contact_name) == []
    assert any(e.name.startswith("济宁市") and e.name.endswith("有限公司") for e in employers)


def test_every_fake_community_lies_in_a_real_township_of_the_region() -> None:
    communities = fakes.communities(9, JINING, 500)
    assert len({c.code for c in communities}) == 500
    for community in communities:
        township = regions.region(community.township_code)
        assert township is not None and township.parent_code == community.county_code
        assert community.code[:9] == community.township_code and len(community.code) == 12
        assert community.name.startswith(township.name)
        assert community.name.endswith(("社区", "村"))


@pytest.mark.parametrize("region_code", ["110000", "441900", "370811"])
def test_a_municipality_a_city_without_counties_or_a_county_can_be_seeded(
    region_code: str,
) -> None:
    people = list(fakes.persons(1, region_code, 50, employers=[], communities=[]))
    assert all(person_problems(p) == [] for p in people)
    assert all(p.employer_credit_code is None for p in people)
    assert fakes.communities(1, region_code, 3)


def test_a_region_without_counties_or_townships_is_refused() -> None:
    with pytest.raises(ValueError, match="no current counties"):
        list(fakes.persons(1, "999900", 1, employers=[], communities=[]))


@given(st.integers(min_value=1, max_value=5000), st.integers(min_value=0, max_value=2**32))
def test_the_shuffle_behind_unique_numbers_is_a_permutation(size: int, seed: int) -> None:
    shuffle = fakes._Shuffle(size, random.Random(seed))
    assert sorted(shuffle(x) for x in range(size)) == list(range(size))


def test_a_streamed_run_can_be_stopped_early() -> None:
    stream = fakes.persons(4, JINING, 10**8, employers=[], communities=[])
    first = list(islice(stream, 3))
    assert len(first) == 3
    assert isinstance(first[0].birth_date, date)
