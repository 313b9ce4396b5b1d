"""Card photo use cases: upload (checked, EXIF stripped, encrypted), read (audited), look up.

The rules a photo must meet are in :mod:`~sscard.registry.photos.rules`, tightened by the
deployment's settings (:func:`photo_rules`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from sscard.crypto import fields
from sscard.db import utcnow
from sscard.errors import ValidationFailed
from sscard.iam import service as iam_service
from sscard.kit import access
from sscard.kit.access import AccessRecord
from sscard.kit.context import Actor
from sscard.registry.persons import service as persons_service
from sscard.registry.persons.models import Person
from sscard.registry.photos import repository, rules
from sscard.registry.photos.errors import PhotoNotFound
from sscard.registry.photos.models import Photo
from sscard.registry.photos.schemas import PhotoInfo
from sscard.settings import get_settings


def photo_rules() -> rules.PhotoRules:
    """The photo rules of this deployment (settings)."""
    settings = get_settings()
    return rules.PhotoRules(
        format=settings.photo_format,
        width=settings.photo_width,
        height=settings.photo_height,
        min_bytes=settings.photo_min_kb * rules.KB,
        max_bytes=settings.photo_max_kb * rules.KB,
    )


def put_photo(session: Session, *, id_number: str, data: bytes, actor: Actor) -> PhotoInfo:
    """Upload or replace a person's card photo (checked, EXIF stripped, encrypted)."""
    person = persons_service.get_person(session, id_number=id_number, actor=actor)
    found = rules.check_photo(data, photo_rules())
    if found:
        raise ValidationFailed(found)
    clean = rules.normalise_photo(data)
    content = fields.encrypt_blob(
        clean, table="registry_photo", column="content_enc", row_id=person.id, session=session
    )
    wanted = photo_rules()
    photo = repository.photo_of(session, person.id) or Photo(person_id=person.id)
    photo.content_enc, photo.width, photo.height = content, wanted.width, wanted.height
    photo.size_bytes, photo.uploaded_at, photo.uploaded_by = len(clean), utcnow(), actor.id
    repository.add_photo(session, photo)
    _record_photo(session, person, "person.photo.write")
    session.flush()
    return photo_info(photo)


def photo_info(photo: Photo) -> PhotoInfo:
    return PhotoInfo(
        width=photo.width,
        height=photo.height,
        size_bytes=photo.size_bytes,
        uploaded_at=photo.uploaded_at,
        uploaded_by=photo.uploaded_by,
    )


def get_photo(session: Session, *, id_number: str, actor: Actor) -> bytes:
    """The photo's JPEG bytes (permission ``registry.photo.read``; audited)."""
    iam_service.authorize(actor, "registry.photo.read")
    person = persons_service.get_person(session, id_number=id_number, actor=actor)
    photo = repository.photo_of(session, person.id)
    if photo is None:
        raise PhotoNotFound()
    _record_photo(session, person, "person.photo.read")
    return fields.decrypt_blob(
        photo.content_enc,
        table="registry_photo",
        column="content_enc",
        row_id=person.id,
        session=session,
    )


def _record_photo(session: Session, person: Person, action: str) -> None:
    access.record(
        session,
        AccessRecord(
            action=action,
            subject_type="person",
            subject_id=person.id,
            subject_display=person.id_number_masked,
            fields=("photo",),
        ),
    )


# ---- for other components -----------------------------------------------------------


def has_photo(session: Session, *, person_id: str) -> bool:
    """Whether the person has a card photo (card applications need one)."""
    return repository.has_photo(session, person_id)


def photo_bytes(session: Session, *, person_id: str) -> bytes | None:
    """The person's card photo (JPEG), for a real-person check; None if there is none."""
    photo = repository.photo_of(session, person_id)
    if photo is None:
        return None
    return fields.decrypt_blob(
        photo.content_enc,
        table="registry_photo",
        column="content_enc",
        row_id=person_id,
        session=session,
    )


def photos_bytes(session: Session, *, person_ids: Sequence[str]) -> dict[str, bytes]:
    """Person id -> card photo (JPEG) for those of ``person_ids`` that have one."""
    return {
        pid: fields.decrypt_blob(
            content, table="registry_photo", column="content_enc", row_id=pid, session=session
        )
        for pid, content in repository.photos_for(session, person_ids).items()
    }


def photo_owners(session: Session, *, person_ids: Sequence[str]) -> set[str]:
    """Which of these persons have a card photo."""
    return repository.photo_owners(session, person_ids) if person_ids else set()
