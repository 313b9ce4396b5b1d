"""Every query of the key store."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, table
from sqlalchemy.orm import Session, selectinload

from sscard.crypto.models import (
    CryptoKey,
    CryptoKeyVersion,
    MasterKeyRecord,
    ReencryptCheckpoint,
    VersionStatus,
)

MASTER_RECORD_ID = 1


def get_master_record(session: Session) -> MasterKeyRecord | None:
    return session.get(MasterKeyRecord, MASTER_RECORD_ID)


def add_master_record(session: Session, *, check_value: str, origin: str) -> MasterKeyRecord:
    record = MasterKeyRecord(id=MASTER_RECORD_ID, check_value=check_value, origin=origin)
    session.add(record)
    session.flush()
    return record


def get_key(session: Session, name: str) -> CryptoKey | None:
    return session.scalars(
        select(CryptoKey).where(CryptoKey.name == name).options(selectinload(CryptoKey.versions))
    ).one_or_none()


def list_keys(session: Session) -> Sequence[CryptoKey]:
    return session.scalars(
        select(CryptoKey).order_by(CryptoKey.name).options(selectinload(CryptoKey.versions))
    ).all()


def demo_key_names(session: Session) -> Sequence[str]:
    return session.scalars(
        select(CryptoKey.name).where(CryptoKey.demo.is_(True)).order_by(CryptoKey.name)
    ).all()


def get_version(session: Session, name: str, version: int) -> tuple[str, CryptoKeyVersion] | None:
    """The version row and its key's kind."""
    row = session.execute(
        select(CryptoKey.kind, CryptoKeyVersion)
        .join(CryptoKeyVersion.key)
        .where(CryptoKey.name == name, CryptoKeyVersion.version == version)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def get_active_version(session: Session, name: str) -> tuple[str, CryptoKeyVersion] | None:
    row = session.execute(
        select(CryptoKey.kind, CryptoKeyVersion)
        .join(CryptoKeyVersion.key)
        .where(CryptoKey.name == name, CryptoKeyVersion.status == VersionStatus.active)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def max_version(session: Session, key_id: int) -> int:
    value = session.scalar(
        select(func.max(CryptoKeyVersion.version)).where(CryptoKeyVersion.key_id == key_id)
    )
    return int(value or 0)


def add(session: Session, row: CryptoKey | CryptoKeyVersion | ReencryptCheckpoint) -> None:
    session.add(row)
    session.flush()


def get_checkpoint(session: Session, table_name: str) -> ReencryptCheckpoint | None:
    return session.scalars(
        select(ReencryptCheckpoint).where(ReencryptCheckpoint.table_name == table_name)
    ).one_or_none()


def count_rows(session: Session, table_name: str) -> int:
    """How many rows a table holds (a registered table of another component, by name)."""
    return int(session.scalar(select(func.count()).select_from(table(table_name))) or 0)
