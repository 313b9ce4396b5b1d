"""The province's card directory (省持卡库), kept in memory: one record per card issued in
any city of the province, seeded at start with a few cards issued by other cities than
Jining, so that off-site cards (异地卡) can be downloaded on a fresh system."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def citizen_id(region: str, born: str, sequence: int) -> str:
    """A citizen ID number with its GB 11643 check character."""
    first17 = f"{region}{born}{sequence:03d}"
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def card_id_code(region_code: str, year: int, serial: int, *, vendor: str = "HD01") -> str:
    """A card identification code with its check characters (docs/formats.md)."""
    first30 = f"{region_code}1563{vendor}{year:04d}{serial:012d}"
    return first30 + mod97_check(first30)


def mod97_check(first30: str) -> str:
    """ISO/IEC 7064 MOD 97-10 check digits (letters count A=10 ... Z=35, as in IBANs)."""
    number = int("".join(str(int(c, 36)) for c in first30))
    return f"{98 - (number * 100) % 97:02d}"


@dataclass
class Record:
    card_number: str
    card_id_code: str
    id_number: str
    name: str
    region_code: str
    """The issuing city."""
    managing_region_code: str
    """The city that manages the card now (changes on 地市卡转移)."""
    status: str
    """active, issued, temporarily_lost, lost or cancelled."""
    bank_code: str
    generation: int = 3
    issue_date: str | None = None
    expiry_date: str | None = None
    cancel_reason: str | None = None

    def public(self) -> dict[str, Any]:
        """The record as answered to a city (the city asked by ID number: it knows it)."""
        found = asdict(self)
        found.pop("id_number")
        return found


SEEDS: list[Record] = [
    Record(
        "P37010001",
        card_id_code("370100", 2024, 1),
        citizen_id("370102", "19900307", 121),
        "张伟",
        "370100",
        "370100",
        "active",
        "BANK-ICBC",
        3,
        "2024-03-01",
        "2034-03-01",
    ),
    Record(
        "P37020001",
        card_id_code("370200", 2023, 7),
        citizen_id("370202", "19851111", 232),
        "李娜",
        "370200",
        "370200",
        "active",
        "BANK-QDB",
        3,
        "2023-06-15",
        "2033-06-15",
    ),
    Record(
        "P37130001",
        card_id_code("371300", 2021, 3),
        citizen_id("371302", "19780520", 311),
        "王强",
        "371300",
        "371300",
        "lost",
        "BANK-LSB",
        2,
        "2021-01-10",
        "2031-01-10",
    ),
    Record(
        "P37010002",
        card_id_code("370100", 2019, 9),
        citizen_id("370103", "19920909", 455),
        "刘洋",
        "370100",
        "370100",
        "cancelled",
        "BANK-ICBC",
        2,
        "2019-09-01",
        "2029-09-01",
    ),
    Record(
        "P37010003",
        card_id_code("370100", 2025, 4),
        citizen_id("370103", "19920909", 455),
        "刘洋",
        "370100",
        "370100",
        "active",
        "BANK-ICBC",
        3,
        "2025-02-01",
        "2035-02-01",
    ),
]
"""Cards of other cities known at start: 济南 (3701), 青岛 (3702), 临沂 (3713)."""


class Directory:
    """Records by card number; replies already given to idempotency keys."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.cards: dict[str, Record] = {}
        self.replies: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        for seed in SEEDS:
            self.cards[seed.card_number] = Record(**asdict(seed))

    def of_person(self, id_number: str) -> list[Record]:
        return [r for r in self.cards.values() if r.id_number == id_number]


_create_lock = threading.Lock()


def directory_of(state: Any) -> Directory:
    """The directory of one app (``app.state``), created (and seeded) on first use."""
    with _create_lock:
        found = getattr(state, "province_directory", None)
        if found is None:
            found = Directory()
            state.province_directory = found
        return found
