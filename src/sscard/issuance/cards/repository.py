"""Every query of cards: lookup, timeline, number ranges, boxes, handovers, statistics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import column, func, or_, select, table, update
from sqlalchemy.orm import Session

from sscard.issuance.cards.models import Box, Card, CardEvent, Handover, NumberRange

_person = table("registry_person", column("id"), column("employer_id"), column("community_code"))
# The batch tables, read here as plain tables: batches builds on cards, not the other way.
_batch = table("issuance_batch", column("id"), column("batch_no"))
_failure = table("issuance_failure", column("card_id"), column("status"))


def card(session: Session, card_id: str) -> Card | None:
    return session.get(Card, card_id)


def card_by_number(session: Session, card_number: str) -> Card | None:
    return session.scalars(select(Card).where(Card.card_number == card_number)).first()


def card_by_id_code(session: Session, card_id_code: str) -> Card | None:
    return session.scalars(select(Card).where(Card.card_id_code == card_id_code)).first()


def cards_of_person(session: Session, person_id: str) -> list[Card]:
    stmt = select(Card).where(Card.person_id == person_id).order_by(Card.applied_at.desc())
    return list(session.scalars(stmt))


def live_card_of_person(session: Session, person_id: str) -> Card | None:
    stmt = select(Card).where(
        Card.person_id == person_id, Card.status.not_in(("failed", "cancelled"))
    )
    return session.scalars(stmt).first()


def card_event(session: Session, event_id: int) -> CardEvent | None:
    return session.get(CardEvent, event_id)


def issued_at(session: Session, card_id: str, institution_code: str) -> bool:
    """Whether the card was issued to its holder by a counter of ``institution_code``."""
    stmt = select(CardEvent.id).where(
        CardEvent.card_id == card_id,
        CardEvent.action == "issue",
        CardEvent.institution_code == institution_code,
    )
    return session.scalar(stmt.limit(1)) is not None


def timeline(session: Session, card_id: str) -> list[CardEvent]:
    stmt = select(CardEvent).where(CardEvent.card_id == card_id).order_by(CardEvent.id)
    return list(session.scalars(stmt))


def ranges_for_update(session: Session, region_code: str) -> list[NumberRange]:
    stmt = (
        select(NumberRange)
        .where(
            NumberRange.region_code == region_code,
            NumberRange.status == "active",
            NumberRange.next_value <= NumberRange.last_value,
        )
        .order_by(NumberRange.id)
        .with_for_update()
    )
    return list(session.scalars(stmt))


def ranges(session: Session, region_code: str | None = None) -> list[NumberRange]:
    stmt = select(NumberRange).order_by(NumberRange.region_code, NumberRange.id)
    if region_code:
        stmt = stmt.where(NumberRange.region_code == region_code)
    return list(session.scalars(stmt))


def overlapping_range(session: Session, prefix: str, start: int, end: int) -> NumberRange | None:
    stmt = select(NumberRange).where(
        NumberRange.prefix == prefix,
        NumberRange.next_value <= end,
        NumberRange.last_value >= start,
    )
    return session.scalars(stmt).first()


def lapsed_temporary_losses(session: Session, before: datetime, limit: int) -> list[Card]:
    stmt = (
        select(Card)
        .where(Card.status == "temporarily_lost", Card.lost_at <= before)
        .order_by(Card.lost_at)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def box(session: Session, code: str) -> Box | None:
    return session.get(Box, code)


def cards_in_box(session: Session, code: str) -> list[Card]:
    stmt = select(Card).where(Card.box_code == code).order_by(Card.box_position)
    return list(session.scalars(stmt))


def handovers_of(session: Session, card: Card) -> list[Handover]:
    conditions = [Handover.card_id == card.id]
    if card.box_code:
        conditions.append(Handover.box_code == card.box_code)
    stmt = select(Handover).where(or_(*conditions)).order_by(Handover.handed_at, Handover.id)
    return list(session.scalars(stmt))


def status_counts(session: Session, batch_id: int | None = None) -> dict[str, int]:
    stmt = select(Card.status, func.count()).group_by(Card.status)
    if batch_id is not None:
        stmt = stmt.where(Card.batch_id == batch_id)
    return {row[0]: int(row[1]) for row in session.execute(stmt)}


def holding_by(session: Session, group: str, statuses: Sequence[str]) -> list[tuple[str, int]]:
    """Card counts (cards in ``statuses``) per employer id or community code of the holders."""
    key = _person.c.employer_id if group == "employer" else _person.c.community_code
    stmt = (
        select(key, func.count())
        .select_from(Card)
        .join(_person, _person.c.id == Card.person_id)
        .where(Card.status.in_(statuses), key.is_not(None))
        .group_by(key)
        .order_by(func.count().desc())
    )
    return [(str(row[0]), int(row[1])) for row in session.execute(stmt)]


def failures_by(session: Session, group: str) -> list[tuple[str, int]]:
    """Open card-making failures per employer id or community code of the holders."""
    key = _person.c.employer_id if group == "employer" else _person.c.community_code
    stmt = (
        select(key, func.count())
        .select_from(_failure)
        .join(Card, Card.id == _failure.c.card_id)
        .join(_person, _person.c.id == Card.person_id)
        .where(_failure.c.status == "open", key.is_not(None))
        .group_by(key)
        .order_by(func.count().desc())
    )
    return [(str(row[0]), int(row[1])) for row in session.execute(stmt)]


def batch_no(session: Session, batch_id: int) -> str | None:
    """The number of the batch a card was made in."""
    found = session.scalar(select(_batch.c.batch_no).where(_batch.c.id == batch_id))
    return str(found) if found is not None else None


def count_pin_failure(session: Session, card_id: str) -> None:
    """One more wrong PIN on the card (in the unit of work after a rollback)."""
    session.execute(
        update(Card)
        .where(Card.id == card_id)
        .values(pin_failures=Card.pin_failures + 1)
        .execution_options(synchronize_session=False)
    )
