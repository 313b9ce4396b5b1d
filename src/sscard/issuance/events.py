"""Events the issuance component publishes (ids and statuses only, never personal data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sscard.kit.events import Event


@dataclass(frozen=True, kw_only=True)
class CardStatusChanged(Event):
    """A card moved from one lifecycle status to another (the e-card follows it)."""

    name: ClassVar[str] = "issuance.card_status_changed"
    card_id: str
    person_id: str
    card_number: str | None
    action: str
    from_status: str | None
    to_status: str
