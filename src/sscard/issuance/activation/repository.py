"""Every query of one-step activation and bank changes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sscard.issuance.activation.models import ActivationStep
from sscard.issuance.cards.models import Card, CardEvent


def steps(session: Session, card_id: str) -> dict[str, ActivationStep]:
    """The card's saga steps by name."""
    rows = session.scalars(select(ActivationStep).where(ActivationStep.card_id == card_id))
    return {row.step: row for row in rows}


def card(session: Session, card_id: str) -> Card | None:
    return session.get(Card, card_id)


def locked_card(session: Session, card_id: str) -> Card | None:
    """The card, row-locked (PostgreSQL) so that the saga's records of one card queue up."""
    return session.get(Card, card_id, with_for_update=True)


def bank_change_running(session: Session, card_id: str) -> bool:
    """Whether the card's last bank change has not been answered yet."""
    stmt = (
        select(CardEvent.action)
        .where(
            CardEvent.card_id == card_id,
            CardEvent.action.in_(("bank_change", "bank_bound", "bank_change_failed")),
        )
        .order_by(CardEvent.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first() == "bank_change"
