"""An employer's contact person and phone at rest: field tokens and masked copies (the
crypto component's field encryption, under the caller's session)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from sscard.crypto import fields
from sscard.kit.masking import mask_name, mask_phone
from sscard.registry.units.models import EMPLOYER_TABLE, Employer

ENCRYPTED = ("contact_name_enc", "contact_phone_enc")


def register() -> None:
    """Declare the employer table's encrypted columns for key rotation."""
    fields.register_encrypted_table(EMPLOYER_TABLE, "id", ENCRYPTED)


def _seal(value: str, column: str, employer_id: int, session: Session) -> bytes | None:
    if not value:
        return None
    return fields.encrypt_field(
        value, table=EMPLOYER_TABLE, column=column, row_id=employer_id, session=session
    )


def seal_contact(
    employer: Employer, *, name: str | None, phone: str | None, session: Session
) -> None:
    """Store the contact name and/or phone (None leaves one as it is); the row has an id."""
    if name is not None:
        employer.contact_name_enc = _seal(name, "contact_name_enc", employer.id, session)
        employer.contact_name_masked = mask_name(name)
    if phone is not None:
        employer.contact_phone_enc = _seal(phone, "contact_phone_enc", employer.id, session)
        employer.contact_phone_masked = mask_phone(phone)


@dataclass(frozen=True, slots=True)
class Contact:
    """An employer's contact in clear: only for an authorised purpose."""

    name: str
    phone: str


def _open(token: bytes | None, column: str, employer_id: int, session: Session) -> str:
    if token is None:
        return ""
    return fields.decrypt_field(
        token, table=EMPLOYER_TABLE, column=column, row_id=employer_id, session=session
    )


def reveal(employer: Employer, session: Session) -> Contact:
    """Decrypt an employer's contact name and phone."""
    return Contact(
        name=_open(employer.contact_name_enc, "contact_name_enc", employer.id, session),
        phone=_open(employer.contact_phone_enc, "contact_phone_enc", employer.id, session),
    )
