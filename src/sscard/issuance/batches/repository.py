"""Every query of batch card making: batches, the cards they take and apply results to,
boxes, card-making failures."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import column, func, select, table
from sqlalchemy.orm import Session

from sscard.issuance.batches.models import Batch, Failure
from sscard.issuance.cards.models import Box, Card

# The registry's person table, named here only to list failures by employer (read-only).
_person = table("registry_person", column("id"), column("employer_id"))


def batch(session: Session, batch_id: int) -> Batch | None:
    return session.get(Batch, batch_id)


def batch_by_no(session: Session, batch_no: str, *, lock: bool = False) -> Batch | None:
    """A batch by number; ``lock`` row-locks it (PostgreSQL) for a worker's chunk."""
    stmt = select(Batch).where(Batch.batch_no == batch_no)
    return session.scalars(stmt.with_for_update() if lock else stmt).first()


def batches(session: Session, *, limit: int) -> list[Batch]:
    return list(session.scalars(select(Batch).order_by(Batch.id.desc()).limit(limit)))


def unfinished_export(session: Session, region_code: str, status: str) -> Batch | None:
    """The region's oldest batch whose export stopped (status ``exporting``)."""
    stmt = (
        select(Batch)
        .where(Batch.status == status, Batch.region_code == region_code)
        .order_by(Batch.id)
    )
    return session.scalars(stmt).first()


def count_batches_numbered(session: Session, prefix: str) -> int:
    """How many batch numbers start with ``prefix`` (the region and the day)."""
    stmt = select(func.count()).select_from(Batch).where(Batch.batch_no.like(f"{prefix}%"))
    return int(session.scalar(stmt) or 0)


def applied_batch_cards(
    session: Session, *, region_code: str, status: str, after: str, limit: int
) -> list[Card]:
    """Batch-mode cards in ``status`` of the region after card id ``after``, row-locked,
    skipping cards another export holds."""
    stmt = (
        select(Card)
        .where(
            Card.status == status,
            Card.mode == "batch",
            Card.region_code == region_code,
            Card.id > after,
        )
        .order_by(Card.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def batch_cards_by_number(
    session: Session, *, batch_id: int, status: str, after: str, limit: int
) -> list[Card]:
    """The batch's cards in ``status``, by card number, after card number ``after``."""
    stmt = (
        select(Card)
        .where(Card.batch_id == batch_id, Card.status == status, Card.card_number > after)
        .order_by(Card.card_number)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def batch_cards(session: Session, *, batch_id: int, status: str, limit: int) -> list[Card]:
    """The first ``limit`` cards of the batch in ``status``, by id."""
    stmt = (
        select(Card)
        .where(Card.batch_id == batch_id, Card.status == status)
        .order_by(Card.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def cards_by_numbers(session: Session, numbers: Sequence[str]) -> dict[str, Card]:
    stmt = select(Card).where(Card.card_number.in_(numbers))
    return {c.card_number or "": c for c in session.scalars(stmt)}


def failed_card_ids(session: Session, *, batch_id: int, card_ids: Sequence[str]) -> set[str]:
    """Which of the cards already have a failure recorded in the batch."""
    stmt = select(Failure.card_id).where(
        Failure.batch_id == batch_id, Failure.card_id.in_(card_ids)
    )
    return set(session.scalars(stmt))


def id_code_owners(session: Session, codes: Sequence[str]) -> dict[str, str]:
    """Card identification code -> card number, for the codes already used."""
    stmt = select(Card.card_id_code, Card.card_number).where(Card.card_id_code.in_(codes))
    return {str(row[0]): row[1] or "" for row in session.execute(stmt)}


def box(session: Session, code: str) -> Box | None:
    return session.get(Box, code)


def failures(
    session: Session,
    *,
    batch_id: int | None,
    employer_id: int | None,
    status: str | None,
    limit: int,
    offset: int,
) -> list[Failure]:
    """Card-making failures, newest first, of a batch, of an employer's staff, by status."""
    stmt = select(Failure).order_by(Failure.id.desc()).limit(limit).offset(offset)
    if status:
        stmt = stmt.where(Failure.status == status)
    if batch_id is not None:
        stmt = stmt.where(Failure.batch_id == batch_id)
    if employer_id is not None:
        stmt = (
            stmt.join(Card, Card.id == Failure.card_id)
            .join(_person, _person.c.id == Card.person_id)
            .where(_person.c.employer_id == employer_id)
        )
    return list(session.scalars(stmt))


def failure(session: Session, failure_id: int) -> Failure | None:
    return session.get(Failure, failure_id)


def pending_cards(
    session: Session, *, region_code: str, limit: int, offset: int
) -> tuple[list[Card], int]:
    """Batch-mode applications waiting for a batch in the region, oldest first, and how many."""
    where = (Card.status == "applied", Card.mode == "batch", Card.region_code == region_code)
    total = session.scalar(select(func.count()).select_from(Card).where(*where)) or 0
    stmt = select(Card).where(*where).order_by(Card.applied_at, Card.id)
    return list(session.scalars(stmt.limit(limit).offset(offset))), int(total)
