"""Every query of the e-card core: e-cards, copies, resident sessions, usage, revocations,
phone-change codes."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from sscard.ecard.models import Copy, ECard, PhoneChange, ResidentSession, Revocation, Usage

USAGE = cast(Table, Usage.__table__)


def ecard(session: Session, ecard_id: str) -> ECard | None:
    return session.get(ECard, ecard_id)


def ecard_of_card(session: Session, card_id: str) -> ECard | None:
    return session.scalars(select(ECard).where(ECard.card_id == card_id)).first()


def current_ecard_of_person(session: Session, person_id: str) -> ECard | None:
    """The newest e-card of the person that is not revoked."""
    stmt = (
        select(ECard)
        .where(ECard.person_id == person_id, ECard.status != "revoked")
        .order_by(ECard.signed_at.desc())
    )
    return session.scalars(stmt).first()


def ecards_of_person(session: Session, person_id: str) -> list[ECard]:
    return list(session.scalars(select(ECard).where(ECard.person_id == person_id)))


def add_ecard(session: Session, ecard: ECard) -> ECard:
    session.add(ecard)
    session.flush()
    return ecard


def copy_with_ecard(session: Session, copy_id: int) -> tuple[Copy, ECard] | None:
    row = session.execute(
        select(Copy, ECard).join(ECard, ECard.id == Copy.ecard_id).where(Copy.id == copy_id)
    ).first()
    return None if row is None else (row[0], row[1])


def copy(session: Session, copy_id: int) -> Copy | None:
    return session.get(Copy, copy_id)


def copy_of(
    session: Session, ecard_id: str, channel_code: str, holder_person_id: str
) -> Copy | None:
    stmt = select(Copy).where(
        Copy.ecard_id == ecard_id,
        Copy.channel_code == channel_code,
        Copy.holder_person_id == holder_person_id,
    )
    return session.scalars(stmt).first()


def copies_of(session: Session, ecard_id: str) -> list[Copy]:
    return list(session.scalars(select(Copy).where(Copy.ecard_id == ecard_id).order_by(Copy.id)))


def live_proxy_copies(session: Session, member_person_id: str, holder_person_id: str) -> list[Copy]:
    """Proxy copies of the member's e-cards held by ``holder_person_id``, not revoked."""
    stmt = (
        select(Copy)
        .join(ECard, ECard.id == Copy.ecard_id)
        .where(
            ECard.person_id == member_person_id,
            Copy.holder_person_id == holder_person_id,
            Copy.proxy.is_(True),
            Copy.status != "revoked",
        )
    )
    return list(session.scalars(stmt))


def add_copy(session: Session, copy: Copy) -> Copy:
    session.add(copy)
    session.flush()
    return copy


def add_revocation(session: Session, *, copy_id: int, status: str, at: datetime) -> None:
    session.add(Revocation(copy_id=copy_id, status=status, recorded_at=at))


def revocations_after(session: Session, since: int, limit: int) -> list[Revocation]:
    stmt = select(Revocation).where(Revocation.seq > since).order_by(Revocation.seq).limit(limit)
    return list(session.scalars(stmt))


def session_by_token(session: Session, token_hash: str) -> ResidentSession | None:
    stmt = select(ResidentSession).where(ResidentSession.token_hash == token_hash)
    return session.scalars(stmt).first()


def add_session(session: Session, record: ResidentSession) -> None:
    session.add(record)


def insert_usage(session: Session, **values: object) -> None:
    """One usage row, inserted at once without loading an object (the hot path)."""
    session.connection().execute(insert(USAGE).values(**values))


def add_usage(session: Session, usage: Usage) -> None:
    session.add(usage)


def add_phone_change(session: Session, change: PhoneChange) -> PhoneChange:
    session.add(change)
    session.flush()
    return change


def phone_change(session: Session, change_id: int) -> PhoneChange | None:
    return session.get(PhoneChange, change_id)


def latest_phone_change(session: Session, person_id: str) -> PhoneChange | None:
    """The person's newest phone-change code that is not used yet."""
    stmt = (
        select(PhoneChange)
        .where(PhoneChange.person_id == person_id, PhoneChange.used_at.is_(None))
        .order_by(PhoneChange.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()
