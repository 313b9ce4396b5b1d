"""Deterministic demo data: persons, employers and communities of one region.

The same seed and region give the same records on every machine and every day: each stream
draws from its own ``random.Random`` seeded by a string (never the global generator), and
ages, dates of enrolment and deaths are reckoned from :data:`REFERENCE_DATE`, not today.

Everything generated passes the registry's validators: citizen ID numbers carry a current
county code of the region (GB/T 2260, 2025 table), a real birth date between 1940 and 2024,
a sequence whose parity agrees with the gender and the GB 11643 check character; credit
codes pass both the GB 32100 and the embedded GB 11714 check; township codes are current.

Uniqueness is by construction, not by remembering what was issued, so memory stays constant
however many persons are streamed: person ``i`` gets slot ``shuffle(i)`` of the space
county × birth date × half-sequence (a keyed bijection), and the gender only picks the parity
of the sequence. Employers' organisation codes and communities' codes are built the same way.

Simplifications a reader of the demo should know: birth dates are spread evenly over
1940-2024 and persons evenly over the counties; about 93 % are Han; adults under 60 mostly
work for one of the employers given; people aged 60 and over draw either an employee or a
resident pension.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sscard.registry import codes, regions
from sscard.registry import fake_tables as tables
from sscard.registry.identifiers import (
    CREDIT_ALPHABET,
    check_character,
    credit_code_check_character,
    organisation_code_check_character,
)
from sscard.registry.regions import Region

T = TypeVar("T")

REFERENCE_DATE = date(2025, 12, 31)
"""The day demo data is generated "as of": ages and enrolment dates are counted from it."""
FIRST_BIRTH = date(1940, 1, 1)
LAST_BIRTH = date(2024, 12, 31)
_FIRST_DAY = FIRST_BIRTH.toordinal()
_BIRTH_DAYS = LAST_BIRTH.toordinal() - _FIRST_DAY + 1
_HALF_SEQUENCES = 499
"""Sequences 001-998: 499 odd ones for men and 499 even ones for women."""
_YEAR = 365.2425


@dataclass(slots=True)
class FakeEnrolment:
    """One insurance enrolment: type (AAE140), status, from and (when ended) until.

    Generated records are plain (not frozen) dataclasses: setting the fields of a frozen
    one goes through ``object.__setattr__`` and would cost a quarter of the generation time.
    """

    insurance_type: str
    status: str
    start_date: date
    end_date: date | None = None


@dataclass(frozen=True, slots=True)
class FakeEmployer:
    """An employer (unit) with a valid unified social credit code."""

    credit_code: str
    name: str
    region_code: str
    township_code: str
    address: str
    contact_name: str
    contact_phone: str


@dataclass(frozen=True, slots=True)
class FakeCommunity:
    """A community (社区) or village (村) under a real township or street."""

    code: str
    """12 digits: the 9-digit township code and a 3-digit community number."""
    township_code: str
    county_code: str
    name: str


@dataclass(slots=True)
class FakePerson:
    """A cardholder with every field of the registry."""

    id_number: str
    document_type: str
    name: str
    gender: str
    ethnicity: str
    birth_date: date
    nationality: str
    phone: str
    address: str
    region_code: str
    household_region_code: str
    residence_region_code: str
    township_code: str
    community_code: str | None
    employer_credit_code: str | None
    insurances: tuple[FakeEnrolment, ...]
    status: str
    death_date: date | None
    photo_seed: int


class _Shuffle:
    """A keyed bijection of ``range(size)``: a 4-round Feistel network, cycle-walked."""

    def __init__(self, size: int, rng: random.Random) -> None:
        """Keys drawn from ``rng``; halves wide enough that both together cover ``size``."""
        bits = max(2, (size - 1).bit_length())
        self.size = size
        self.half = (bits + 1) // 2
        self.mask = (1 << self.half) - 1
        self.keys = tuple(rng.getrandbits(32) for _ in range(4))

    def __call__(self, x: int) -> int:
        """The image of ``x``, in ``range(size)`` like ``x``."""
        half, mask = self.half, self.mask
        while True:
            left, right = x >> half, x & mask
            for key in self.keys:
                left, right = right, left ^ ((((right ^ key) * 0x9E3779B1) >> 13) & mask)
            x = (left << half) | right
            if x < self.size:
                return x


@dataclass(frozen=True, slots=True)
class _Place:
    """A county (or a city without counties) and its townships."""

    region: Region
    townships: tuple[Region, ...]


def _places(region_code: str) -> list[_Place]:
    """Counties of the region that have townships; the region itself when it has none."""
    counties = regions.counties_of(region_code)
    if not counties:
        itself = regions.region(region_code)
        counties = [itself] if itself is not None and itself.level > 1 else []
    places = [_Place(c, tuple(regions.townships_of(c.code))) for c in counties]
    places = [p for p in places if p.townships]
    if not places:
        raise ValueError(f"no current counties or townships under region {region_code}")
    return places


def _region_name(region_code: str, places: Sequence[_Place]) -> str:
    """The city's short name for company names: 济宁市, 北京市."""
    found = regions.region(region_code) or regions.region(region_code[:2] + "0000")
    return found.name if found is not None else places[0].region.name


def _pick(rng: random.Random, items: Sequence[T]) -> T:
    """A uniform choice, cheaper than ``rng.choice``; the same for a given generator state."""
    return items[int(rng.random() * len(items))]


def _between(rng: random.Random, low: int, high: int) -> int:
    """A uniform integer from ``low`` to ``high`` inclusive, cheaper than ``rng.randint``."""
    return low + int(rng.random() * (high - low + 1))


def _weighted(rng: random.Random, cumulative: Sequence[float]) -> int:
    """An index drawn with the weights whose running totals are ``cumulative``."""
    return bisect(cumulative, rng.random() * cumulative[-1])


def _given_name(rng: random.Random, male: bool) -> str:
    """One or two characters from the pool of the gender."""
    pool = tables.MALE_GIVEN if male else tables.FEMALE_GIVEN
    if rng.random() < 0.3:
        return _pick(rng, pool)
    return _pick(rng, pool) + _pick(rng, pool)


def _han_name(rng: random.Random, male: bool) -> str:
    """A surname, weighted by how common it is, and a given name."""
    surname = tables.SURNAME_LIST[_weighted(rng, tables.SURNAME_CUMULATIVE)]
    return surname + _given_name(rng, male)


def _person_name(rng: random.Random, ethnicity: str, male: bool) -> str:
    """A name fitting the ethnicity: dotted for Uyghur and Kazakh, two parts for Tibetan."""
    dotted = tables.DOT_NAMES.get(ethnicity)
    if dotted is not None:
        own = _pick(rng, dotted[0] if male else dotted[1])
        return f"{own}·{_pick(rng, dotted[0])}"
    if ethnicity == "04":
        return _pick(rng, tables.TIBETAN) + _pick(rng, tables.TIBETAN)
    return _han_name(rng, male)


def _mobile(rng: random.Random) -> str:
    """A mobile number with a prefix in use by a mainland operator."""
    return f"{_pick(rng, tables.MOBILE_PREFIXES)}{int(rng.random() * 100_000_000):08d}"


def _street_address(rng: random.Random, township: Region) -> str:
    """Township, street and house number, sometimes with building, unit and flat."""
    address = f"{township.full_name}{_pick(rng, tables.STREETS)}{_between(rng, 1, 299)}号"
    if rng.random() < 0.5:
        floor, door = _between(rng, 1, 24), _between(rng, 1, 4)
        address += f"{_between(rng, 1, 30)}号楼{_between(rng, 1, 6)}单元{floor}0{door}室"
    return address


def _day(ordinal: int) -> date:
    """The date of an ordinal day, no later than the reference date."""
    return date.fromordinal(min(ordinal, REFERENCE_DATE.toordinal()))


def _after(born: int, years: float) -> int:
    """The ordinal day ``years`` after the ordinal day ``born``."""
    return born + int(years * _YEAR)


def _worker_enrolments(rng: random.Random, born: int, age: float) -> list[FakeEnrolment]:
    """Employee insurance: all five while working, pension and medical after 60."""
    start = _day(max(_after(born, 18 + rng.random() * 6), date(1995, 1, 1).toordinal()))
    if age >= 60:
        retired = _day(_after(born, 60))
        ended = [FakeEnrolment(t, "terminated", start, retired) for t in ("210", "410", "510")]
        drawing = [FakeEnrolment(t, "enrolled", start) for t in ("110", "310")]
        return drawing + ended
    pension_status = "suspended" if rng.random() < 0.05 else "enrolled"
    return [
        FakeEnrolment("110", pension_status, start),
        *(FakeEnrolment(t, "enrolled", start) for t in ("310", "210", "410", "510")),
    ]


def _resident_enrolments(born: int, age: float) -> list[FakeEnrolment]:
    """Residents' medical insurance, and residents' pension from 16."""
    medical = FakeEnrolment("390", "enrolled", _day(max(born, date(2010, 1, 1).toordinal())))
    if age < 16:
        return [medical]
    pension_start = _day(max(_after(born, 16), date(2014, 1, 1).toordinal()))
    return [FakeEnrolment("170", "enrolled", pension_start), medical]


def _ended(enrolments: list[FakeEnrolment], when: date) -> tuple[FakeEnrolment, ...]:
    """Every enrolment still open is terminated on ``when``."""
    return tuple(
        e
        if e.end_date is not None
        else FakeEnrolment(e.insurance_type, "terminated", min(e.start_date, when), when)
        for e in enrolments
    )


def _status(rng: random.Random, born: int, age: float) -> tuple[str, date | None, date | None]:
    """Status, death date and the day enrolments ended: a few old people died, a few moved."""
    roll = rng.random()
    if age >= 70 and roll < 0.02:
        earliest = max(born, date(2020, 1, 1).toordinal())
        died = date.fromordinal(_between(rng, earliest, REFERENCE_DATE.toordinal()))
        return "deceased", died, died
    if roll > 0.995:
        left = max(born, REFERENCE_DATE.toordinal() - _between(rng, 0, 900))
        return "moved_out", None, date.fromordinal(left)
    return "normal", None, None


@dataclass(frozen=True, slots=True)
class _Setting:
    """Everything ``persons`` precomputes once for a region."""

    region_code: str
    places: tuple[_Place, ...]
    by_county: dict[str, tuple[FakeCommunity, ...]]
    townships: dict[str, Region]
    employers: tuple[FakeEmployer, ...]


def _setting(
    region_code: str, employers: Sequence[FakeEmployer], communities: Sequence[FakeCommunity]
) -> _Setting:
    """Counties, townships and communities of the region, indexed once for the stream."""
    places = tuple(_places(region_code))
    by_county: dict[str, list[FakeCommunity]] = {}
    for community in communities:
        by_county.setdefault(community.county_code, []).append(community)
    townships = {t.code: t for p in places for t in p.townships}
    grouped = {county: tuple(found) for county, found in by_county.items()}
    return _Setting(region_code, places, grouped, townships, tuple(employers))


def _where(
    rng: random.Random, setting: _Setting, household: _Place
) -> tuple[str, Region, str | None]:
    """Residence county, township and community: mostly where the household is."""
    place = household if rng.random() < 0.85 else _pick(rng, setting.places)
    nearby = setting.by_county.get(place.region.code)
    if nearby:
        community = _pick(rng, nearby)
        return place.region.code, setting.townships[community.township_code], community.code
    return place.region.code, _pick(rng, place.townships), None


def _enrolments(rng: random.Random, born: int, age: float, employed: bool) -> list[FakeEnrolment]:
    """Employee insurance for the employed and some retirees, residents' for the rest."""
    if employed or (age >= 60 and rng.random() < 0.5):
        return _worker_enrolments(rng, born, age)
    return _resident_enrolments(born, age)


def _life(
    rng: random.Random, setting: _Setting, born: int
) -> tuple[str | None, tuple[FakeEnrolment, ...], str, date | None]:
    """Employer, insurance enrolments, status and death date, plausible for the age."""
    age = (REFERENCE_DATE.toordinal() - born) / _YEAR
    employed = bool(setting.employers) and 18 <= age < 60 and rng.random() < 0.8
    employer = _pick(rng, setting.employers).credit_code if employed else None
    enrolments = _enrolments(rng, born, age, employed)
    status, death_date, ended_on = _status(rng, born, age)
    insurances = _ended(enrolments, ended_on) if ended_on else tuple(enrolments)
    return employer, insurances, status, death_date


def _person(rng: random.Random, setting: _Setting, slot: int, block: int) -> FakePerson:
    """The person in ``slot`` of county × birth day, with half-sequence ``block``."""
    household = setting.places[slot % len(setting.places)]
    born = _FIRST_DAY + slot // len(setting.places)
    birth_date = date.fromordinal(born)
    male = rng.random() < 0.5
    body = (
        f"{household.region.code}{birth_date.year}{birth_date.month:02d}{birth_date.day:02d}"
        f"{2 * block + (1 if male else 2):03d}"
    )
    ethnicity = tables.ETHNICITIES[_weighted(rng, tables.ETHNIC_CUMULATIVE)]
    residence, township, community = _where(rng, setting, household)
    employer, insurances, status, death_date = _life(rng, setting, born)
    return FakePerson(
        id_number=body + check_character(body),
        document_type=codes.CITIZEN_ID,
        name=_person_name(rng, ethnicity, male),
        gender="1" if male else "2",
        ethnicity=ethnicity,
        birth_date=birth_date,
        nationality="CHN",
        phone=_mobile(rng),
        address=_street_address(rng, township),
        region_code=setting.region_code,
        household_region_code=household.region.code,
        residence_region_code=residence,
        township_code=township.code,
        community_code=community,
        employer_credit_code=employer,
        insurances=insurances,
        status=status,
        death_date=death_date,
        photo_seed=rng.getrandbits(32),
    )


def persons(
    seed: int,
    region_code: str,
    n: int,
    *,
    employers: Sequence[FakeEmployer],
    communities: Sequence[FakeCommunity],
) -> Iterator[FakePerson]:
    """Stream ``n`` persons of the region, unique ID numbers, in constant memory."""
    setting = _setting(region_code, employers, communities)
    slots = len(setting.places) * _BIRTH_DAYS
    if n > slots * _HALF_SEQUENCES:
        raise ValueError(f"region {region_code} has room for {slots * _HALF_SEQUENCES} persons")
    rng = random.Random(f"persons:{seed}:{region_code}")  # noqa: S311 - demo data, not secrets
    shuffle = _Shuffle(slots * _HALF_SEQUENCES, rng)
    for index in range(n):
        block, slot = divmod(shuffle(index), slots)
        yield _person(rng, setting, slot, block)


def _organisation_code(number: int) -> str:
    """A GB 11714 code ``MA`` + six characters + check, as issued since 2015."""
    chars = []
    for _ in range(6):
        number, digit = divmod(number, len(CREDIT_ALPHABET))
        chars.append(CREDIT_ALPHABET[digit])
    body = "MA" + "".join(reversed(chars))
    return body + organisation_code_check_character(body)


def _credit_code(prefix: str, county: str, number: int) -> str:
    """A GB 32100 code: kind, county, organisation code and check character."""
    first17 = prefix + county + _organisation_code(number)
    return first17 + credit_code_check_character(first17)


def _employer_name(rng: random.Random, kind: str, city: str, county: Region) -> str:
    """A company, shop or public body name fitting the kind of code."""
    trade = _pick(rng, tables.TRADE_NAMES)
    if kind == "92":
        return f"{county.name}{trade}{_pick(rng, tables.SHOPS)}"
    if kind == "12":
        return f"{county.name}{_pick(rng, tables.PUBLIC)}"
    return f"{city}{trade}{_pick(rng, tables.INDUSTRIES)}有限公司"


def employers(seed: int, region_code: str, n: int) -> list[FakeEmployer]:
    """``n`` employers of the region: companies (91), shops (92) and public bodies (12)."""
    places = _places(region_code)
    city = _region_name(region_code, places)
    rng = random.Random(f"employers:{seed}:{region_code}")  # noqa: S311 - demo data
    shuffle = _Shuffle(len(CREDIT_ALPHABET) ** 6, rng)
    found = []
    for index in range(n):
        place = _pick(rng, places)
        township = _pick(rng, place.townships)
        roll = rng.random()
        kind = "91" if roll < 0.85 else "92" if roll < 0.95 else "12"
        found.append(
            FakeEmployer(
                credit_code=_credit_code(kind, place.region.code, shuffle(index)),
                name=_employer_name(rng, kind, city, place.region),
                region_code=place.region.code,
                township_code=township.code,
                address=_street_address(rng, township),
                contact_name=_han_name(rng, rng.random() < 0.5),
                contact_phone=_mobile(rng),
            )
        )
    return found


def _community_name(rng: random.Random, township: Region) -> str:
    """A 社区 under a street (and some towns), otherwise a village: 张庄村."""
    if township.name.endswith("街道") or rng.random() < 0.3:
        return f"{township.name}{_pick(rng, tables.COMMUNITY_WORDS)}社区"
    surname, suffix = _pick(rng, tables.VILLAGE_SURNAMES), _pick(rng, tables.VILLAGE_SUFFIXES)
    return f"{township.name}{surname}{suffix}村"


def communities(seed: int, region_code: str, n: int) -> list[FakeCommunity]:
    """``n`` communities spread over the region's real townships, unique 12-digit codes."""
    townships = [(p.region.code, t) for p in _places(region_code) for t in p.townships]
    if n > len(townships) * 999:
        raise ValueError(f"region {region_code} has room for {len(townships) * 999} communities")
    rng = random.Random(f"communities:{seed}:{region_code}")  # noqa: S311 - demo data
    shuffle = _Shuffle(len(townships), rng)
    found = []
    for index in range(n):
        number, position = divmod(index, len(townships))
        county, township = townships[shuffle(position)]
        code = f"{township.code}{number + 1:03d}"
        found.append(FakeCommunity(code, township.code, county, _community_name(rng, township)))
    return found
