"""Migrations build exactly the models' schema, and go down and up again, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text

from sscard import bootstrap, db
from sscard.db import migrate

SCHEMA = "migration_check"


@pytest.fixture
def fresh_engine(tmp_path: Path, database_url: str) -> Iterator[Engine]:
    """An empty database of the same kind as the session's test database."""
    if database_url.startswith("sqlite"):
        engine = db.build_engine(f"sqlite:///{tmp_path}/fresh.db")
        yield engine
        engine.dispose()
        return
    admin = create_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    engine = create_engine(database_url, connect_args={"options": f"-csearch_path={SCHEMA}"})
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    admin.dispose()


def _differences(engine: Engine) -> list[object]:
    bootstrap.import_models()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, db.Base.metadata))


def test_the_migrations_build_exactly_what_the_models_describe(fresh_engine: Engine) -> None:
    migrate.upgrade("head", engine=fresh_engine)
    assert _differences(fresh_engine) == []


def test_every_migration_goes_down_and_up_again(fresh_engine: Engine) -> None:
    migrate.upgrade("head", engine=fresh_engine)
    migrate.downgrade("base", engine=fresh_engine)
    leftover = set(inspect(fresh_engine).get_table_names()) - {"alembic_version"}
    assert leftover == set()
    migrate.upgrade("head", engine=fresh_engine)
    assert migrate.is_up_to_date(fresh_engine)
