"""Events the registry publishes for other components (they carry ids, never personal data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from sscard.kit.events import Event


@dataclass(frozen=True, kw_only=True)
class PersonDeceased(Event):
    """A person was recorded as deceased (at a counter, or by the public-security feed)."""

    name: ClassVar[str] = "registry.person_deceased"
    person_id: str
    region_code: str
    death_date: date
    source: str
