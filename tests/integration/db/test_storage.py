from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from sscard import db
from sscard.db import migrate


def test_the_test_database_is_migrated_to_the_newest_revision(engine) -> None:
    assert migrate.is_up_to_date(engine)


def test_sqlite_connections_enforce_foreign_keys(engine, session: Session) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("a SQLite pragma")
    assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_new_ids_are_time_ordered_and_unique() -> None:
    ids = [db.new_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(len(i) == 26 for i in ids)
    assert ids[0][:8] <= ids[-1][:8]


def test_utcnow_is_timezone_aware() -> None:
    assert db.utcnow().tzinfo is UTC
    assert db.utcnow() > datetime(2020, 1, 1, tzinfo=UTC)
