"""Issuance statistics: making progress, card holding, failures per employer or community."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sscard.issuance import lifecycle
from sscard.issuance.cards import repository
from sscard.issuance.cards.schemas import CountRow
from sscard.registry.units import service as registry_units


def making_progress(session: Session, *, batch_id: int | None = None) -> dict[str, int]:
    """How many cards are in each status (of one batch, or all)."""
    return repository.status_counts(session, batch_id)


def holding(session: Session, *, by: str) -> list[CountRow]:
    """Cards in holders' hands (issued, active or reported lost) per employer or per
    community (card-holding statistics), most first."""
    rows = repository.holding_by(session, by, [s.value for s in lifecycle.HELD])
    return _named_counts(session, by, rows)


def failures_by(session: Session, *, by: str) -> list[CountRow]:
    """Open card-making failures per employer or community."""
    return _named_counts(session, by, repository.failures_by(session, by))


def _named_counts(session: Session, by: str, rows: list[tuple[str, int]]) -> list[CountRow]:
    """The counts with the employers' or communities' names (one query for all names)."""
    keys = [key for key, _ in rows]
    if by == "employer":
        by_id = registry_units.employer_names(session, ids=[int(k) for k in keys])
        names = {str(k): v for k, v in by_id.items()}
    else:
        names = registry_units.community_names(session, codes=keys)
    return [CountRow(key=key, name=names.get(key, key), count=count) for key, count in rows]
