"""The medical insurance system's books, in memory: insured persons, chronic-disease
qualifications, settlements by the platform's settlement number, and the rules in force.

The rules come from ``PEER_MEDICAL_RULES`` (a JSON or TOML file) or, without it, from
``rules.json`` beside this module; ``PUT /control/rules`` replaces them while running.
"""

from __future__ import annotations

import json
import os
import threading
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from peers.medical.rules import Rules, rules_from

DEFAULT_RULES = Path(__file__).with_name("rules.json")


def load_rules(path: str | os.PathLike[str] | None = None) -> tuple[Rules, dict[str, Any]]:
    """The rules from a file (``.toml`` or JSON): parsed, and as written."""
    where = Path(path or os.environ.get("PEER_MEDICAL_RULES") or DEFAULT_RULES)
    text = where.read_text(encoding="utf-8")
    raw = tomllib.loads(text) if where.suffix == ".toml" else json.loads(text)
    return rules_from(raw), raw


@dataclass
class Chronic:
    qualification_no: str
    disease_code: str
    disease_name: str
    valid_from: date
    valid_to: date | None
    active: bool = True

    def valid_on(self, day: date) -> bool:
        return (
            self.active
            and self.valid_from <= day
            and (self.valid_to is None or day <= self.valid_to)
        )


@dataclass
class Insured:
    id_number: str
    name: str
    insurance_type: str
    region_code: str
    personal_balance_fen: int
    used: dict[int, list[int]] = field(default_factory=dict)
    """year -> [deductible used, pool paid] (fen)."""
    chronic: dict[str, Chronic] = field(default_factory=dict)

    def year(self, year: int) -> list[int]:
        return self.used.setdefault(year, [0, 0])

    def chronic_codes(self, day: date) -> frozenset[str]:
        return frozenset(c.disease_code for c in self.chronic.values() if c.valid_on(day))


@dataclass
class Settled:
    settlement_no: str
    settlement_id: str
    id_number: str
    fingerprint: str
    year: int
    deductible_fen: int
    pool_fen: int
    personal_fen: int
    answer: dict[str, Any]
    status: str = "settled"


class Books:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.rules, self.rules_raw = load_rules()
        self.persons: dict[str, Insured] = {}
        self.settlements: dict[str, Settled] = {}
        self.counter = 0
        self.calls: dict[str, int] = {}

    def next_id(self, day: date) -> str:
        self.counter += 1
        return f"YB{day:%Y%m%d}{self.counter:08d}"

    def count(self, operation: str) -> None:
        self.calls[operation] = self.calls.get(operation, 0) + 1


_create_lock = threading.Lock()


def books_of(state: Any) -> Books:
    """The books of one app (``app.state``), created on first use."""
    with _create_lock:
        found = getattr(state, "medical_books", None)
        if found is None:
            found = Books()
            state.medical_books = found
        return found
