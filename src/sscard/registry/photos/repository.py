"""Every query of card photos."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sscard.registry.photos.models import Photo


def photo_of(session: Session, person_id: str) -> Photo | None:
    return session.get(Photo, person_id)


def add_photo(session: Session, photo: Photo) -> None:
    """Keep a new photo (a replaced one is already in the session)."""
    session.add(photo)


def has_photo(session: Session, person_id: str) -> bool:
    return session.scalar(select(func.count()).where(Photo.person_id == person_id)) == 1


def photo_owners(session: Session, person_ids: Sequence[str]) -> set[str]:
    """Which of these persons have a photo."""
    return set(session.scalars(select(Photo.person_id).where(Photo.person_id.in_(person_ids))))


def photos_for(session: Session, person_ids: Sequence[str]) -> dict[str, bytes]:
    """Encrypted photo content of many persons at once, by person id."""
    stmt = select(Photo.person_id, Photo.content_enc).where(Photo.person_id.in_(person_ids))
    return {row[0]: row[1] for row in session.execute(stmt)}
