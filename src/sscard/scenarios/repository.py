"""Every query of the scenarios component."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sscard.scenarios.models import Scenario, Terminal


def save(session: Session, row: Scenario | Terminal) -> None:
    """Add a new scenario or terminal (or keep a changed one) and flush."""
    session.add(row)
    session.flush()


def scenario(session: Session, code: str) -> Scenario | None:
    return session.get(Scenario, code)


def scenarios(session: Session) -> list[Scenario]:
    return list(session.scalars(select(Scenario).order_by(Scenario.code)))


def terminal(session: Session, code: str) -> Terminal | None:
    return session.scalars(select(Terminal).where(Terminal.code == code)).first()


def terminal_by_token(session: Session, token_hash: str) -> Terminal | None:
    return session.scalars(select(Terminal).where(Terminal.token_hash == token_hash)).first()


def terminals(session: Session, institution_code: str | None) -> list[Terminal]:
    stmt = select(Terminal).order_by(Terminal.code)
    if institution_code:
        stmt = stmt.where(Terminal.institution_code == institution_code)
    return list(session.scalars(stmt))
