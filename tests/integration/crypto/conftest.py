"""Fixtures of the key-store tests: a fresh keyring per test, committed keys cleaned up."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
)

from sscard import db
from sscard.crypto import fields, keyring
from sscard.crypto.models import CryptoKey, ReencryptCheckpoint


@pytest.fixture(autouse=True)
def fresh_keyring() -> Iterator[None]:
    """Each test starts with nothing cached (a rolled-back key must not survive in memory)."""
    keyring.reset()
    yield
    keyring.reset()


@pytest.fixture
def committed(engine: Engine) -> Iterator[str]:
    """A name prefix for keys that a test commits; its keys and checkpoints are removed after."""
    prefix = f"t{secrets.token_hex(4)}-"
    yield prefix
    with engine.begin() as connection:
        connection.execute(delete(CryptoKey).where(CryptoKey.name.startswith(prefix)))
        connection.execute(
            delete(ReencryptCheckpoint).where(ReencryptCheckpoint.table_name.startswith("t_"))
        )


@dataclass
class People:
    """A throwaway table with encrypted columns, registered for re-encryption."""

    table: Table
    entry: fields.EncryptedTable

    @property
    def name(self) -> str:
        return self.table.name

    def seed(self, count: int) -> dict[str, tuple[str | None, str]]:
        """Insert ``count`` rows (committed); returns id -> (name, id number)."""
        values: dict[str, tuple[str | None, str]] = {}
        with db.transaction() as session:
            rows = []
            for i in range(count):
                row_id = f"P{i:04d}"
                name = None if i % 7 == 3 else f"张{i}"
                id_number = f"37080219900101{i:03d}X"
                values[row_id] = (name, id_number)
                where = {"table": self.name, "row_id": row_id, "session": session}
                rows.append(
                    {
                        "id": row_id,
                        "name": None
                        if name is None
                        else fields.encrypt_field(name, column="name", **where),
                        "id_number": fields.encrypt_field(id_number, column="id_number", **where),
                        "id_number_index": fields.blind_index(
                            id_number,
                            purpose="person.id_number",
                            key=self.entry.index_key,
                            session=session,
                        ),
                    }
                )
            session.execute(insert(self.table), rows)
        return values

    def rows(self) -> list[Any]:
        with db.transaction() as session:
            return list(session.execute(select(self.table).order_by(self.table.c.id)).all())


@pytest.fixture
def people(engine: Engine, committed: str) -> Iterator[People]:
    """Created with create_all on the test database and dropped afterwards."""
    metadata = MetaData()
    table = Table(
        f"t_{secrets.token_hex(3)}_person",
        metadata,
        Column("id", String(26), primary_key=True),
        Column("name", LargeBinary),
        Column("id_number", LargeBinary),
        Column("id_number_index", LargeBinary),
    )
    metadata.create_all(engine)
    entry = fields.register_encrypted_table(
        table.name,
        "id",
        ["name", "id_number"],
        {"id_number_index": ("id_number", "person.id_number")},
        data_key=f"{committed}data",
        index_key=f"{committed}index",
    )
    yield People(table, entry)
    fields.unregister_encrypted_table(table.name)
    metadata.drop_all(engine)
