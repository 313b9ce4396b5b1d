"""Every query of instant card making and of the cards' records at the province."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.issuance.cards.models import CardEvent
from sscard.issuance.instant.models import IdempotentCall


def _insert(session: Session) -> postgresql.Insert | sqlite.Insert:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(IdempotentCall)


def claim_call(
    session: Session, *, institution_code: str, key: str, operation: str, digest: str
) -> bool:
    """Claim (bank, key) for a new call; False if a call already holds it.

    One ``INSERT ... ON CONFLICT DO NOTHING``: a concurrent call with the same key waits for
    the first one's transaction and then finds its row. No savepoint, so nothing else of
    the unit of work (the audit records) is written early.
    """
    values = {
        "institution_code": institution_code,
        "key": key,
        "operation": operation,
        "request_digest": digest,
        "status_code": 0,
        "response": {},
        "created_at": utcnow(),
    }
    stmt = (
        _insert(session)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["institution_code", "key"])
    )
    return session.execute(stmt.returning(IdempotentCall.key)).first() is not None


def call(session: Session, *, institution_code: str, key: str) -> IdempotentCall | None:
    """The stored call, read afresh (another transaction may have just written it)."""
    return session.get(IdempotentCall, (institution_code, key), populate_existing=True)


def province_cancelled(session: Session, card_id: str) -> bool:
    """Whether the card's provincial record was cancelled from here."""
    stmt = select(CardEvent.id).where(
        CardEvent.card_id == card_id, CardEvent.action == "province_cancel"
    )
    return session.scalars(stmt.limit(1)).first() is not None
