"""How a person's record becomes a database row and back: field tokens, blind indexes,
masked copies and the content digest (uses the crypto component's field encryption)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from sscard.crypto import fields
from sscard.kit.masking import mask_id_number, mask_name, mask_phone
from sscard.registry.persons.models import PERSON_TABLE, Person
from sscard.registry.records import PersonRecord, managing_region

ID_PURPOSE = "registry.person.id_number"
NAME_PURPOSE = "registry.person.name"
PHONE_PURPOSE = "registry.person.phone"
CONTENT_PURPOSE = "registry.person.content"

ENCRYPTED = {
    "id_number_enc": "id_number",
    "name_enc": "name",
    "phone_enc": "phone",
    "address_enc": "address",
}


def register() -> None:
    """Declare the person table's encrypted columns and indexes for key rotation."""
    fields.register_encrypted_table(
        PERSON_TABLE,
        "id",
        list(ENCRYPTED),
        {
            "id_number_index": ("id_number_enc", ID_PURPOSE),
            "name_index": ("name_enc", NAME_PURPOSE),
            "phone_index": ("phone_enc", PHONE_PURPOSE),
        },
    )


def index_candidates(value: str, purpose: str, session: Session) -> list[bytes]:
    """Blind indexes of ``value`` under every usable index-key version (rotation-safe)."""
    return fields.blind_index_candidates(value, purpose=purpose, session=session)


def keys(session: Session) -> fields.FieldKeys:
    """The keys person rows are sealed with (cached after the first load)."""
    return fields.load_keys(session, table=PERSON_TABLE)


def content_digest(record: PersonRecord, keys: fields.FieldKeys) -> bytes:
    """A keyed digest of the whole record: tells a changed row from an unchanged one."""
    return keys.blind_index(record.canonical(), purpose=CONTENT_PURPOSE)


def _seal(value: str | None, column: str, person_id: str, keys: fields.FieldKeys) -> bytes | None:
    return None if value is None else keys.encrypt_field(value, column=column, row_id=person_id)


def _index(value: str | None, purpose: str, keys: fields.FieldKeys) -> bytes | None:
    return None if value is None else keys.blind_index(value, purpose=purpose)


def sealed_columns(
    record: PersonRecord, *, person_id: str, keys: fields.FieldKeys, only: set[str] | None = None
) -> dict[str, Any]:
    """Token, index and mask columns for the personal fields (or only those named)."""
    out: dict[str, Any] = {}
    wanted = only or {"id_number", "name", "phone", "address"}
    if "id_number" in wanted:
        out["id_number_enc"] = _seal(record.id_number, "id_number_enc", person_id, keys)
        out["id_number_index"] = _index(record.id_number, ID_PURPOSE, keys)
        out["id_number_masked"] = mask_id_number(record.id_number)
    if "name" in wanted:
        out["name_enc"] = _seal(record.name, "name_enc", person_id, keys)
        out["name_index"] = _index(record.name, NAME_PURPOSE, keys)
        out["name_masked"] = mask_name(record.name)
    if "phone" in wanted:
        out["phone_enc"] = _seal(record.phone, "phone_enc", person_id, keys)
        out["phone_index"] = _index(record.phone, PHONE_PURPOSE, keys)
        out["phone_masked"] = mask_phone(record.phone) if record.phone else ""
    if "address" in wanted:
        out["address_enc"] = _seal(record.address, "address_enc", person_id, keys)
    return out


def plain_columns(record: PersonRecord) -> dict[str, Any]:
    """The columns stored as they are."""
    return {
        "region_code": managing_region(record),
        "document_type": record.document_type,
        "gender": record.gender,
        "ethnicity": record.ethnicity,
        "birth_date": record.birth_date,
        "nationality": record.nationality,
        "household_region_code": record.household_region_code,
        "residence_region_code": record.residence_region_code,
        "employer_id": record.employer_id,
        "community_code": record.community_code,
    }


def person_row(
    record: PersonRecord, *, person_id: str, keys: fields.FieldKeys, now: datetime
) -> dict[str, Any]:
    """Every column of a new person row."""
    return {
        "id": person_id,
        **plain_columns(record),
        **sealed_columns(record, person_id=person_id, keys=keys),
        "status": "normal",
        "death_date": None,
        "content_digest": content_digest(record, keys),
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }


@dataclass(frozen=True, slots=True)
class Revealed:
    """A person's personal fields in clear: only for an authorised, audited purpose."""

    id_number: str
    name: str
    phone: str | None
    address: str | None


def _open(token: bytes | None, column: str, person_id: str, session: Session) -> str | None:
    if token is None:
        return None
    return fields.decrypt_field(
        token, table=PERSON_TABLE, column=column, row_id=person_id, session=session
    )


def reveal(person: Person, session: Session) -> Revealed:
    """Decrypt a person's personal fields."""
    return Revealed(
        id_number=_open(person.id_number_enc, "id_number_enc", person.id, session) or "",
        name=_open(person.name_enc, "name_enc", person.id, session) or "",
        phone=_open(person.phone_enc, "phone_enc", person.id, session),
        address=_open(person.address_enc, "address_enc", person.id, session),
    )
