"""The e-card's per-process caches of the verification hot path, each bounded
(:class:`sscard.kit.cache.TTLCache`). Services read through them; :func:`clear` empties
them all (tests, or after restoring a database)."""

from __future__ import annotations

from sscard.ecard.schemas import CopyState
from sscard.kit.cache import TTLCache
from sscard.registry.persons.service import HolderBrief

COPY_KEYS: TTLCache[tuple[int, int], bytes] = TTLCache(max_entries=100_000, ttl=None)
"""Derived MAC keys by (copy, key version): they never change for a version."""
STATE_SECONDS = 0.5
COPY_STATES: TTLCache[int, CopyState | None] = TTLCache(max_entries=100_000, ttl=STATE_SECONDS)
"""Copy states for half a second, so a suspension is refused everywhere within a second."""
HOLDER_BRIEFS: TTLCache[str, HolderBrief] = TTLCache(max_entries=50_000, ttl=30.0)
"""Masked holder details by person id (disclosure and audit display)."""
CARD_NUMBERS: TTLCache[str, str] = TTLCache(max_entries=50_000, ttl=None)
"""Card numbers by card id (a card's number never changes once it has one)."""
SCENARIO_DISCLOSURES: TTLCache[str, list[str]] = TTLCache(max_entries=1_000, ttl=5.0)
"""What each scenario may see, for a few seconds."""

ALL = (COPY_KEYS, COPY_STATES, HOLDER_BRIEFS, CARD_NUMBERS, SCENARIO_DISCLOSURES)


def clear() -> None:
    """Empty every e-card cache."""
    for cache in ALL:
        cache.clear()
