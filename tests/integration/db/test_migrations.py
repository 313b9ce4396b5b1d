"""Migrations build exactly the models' schema, and go down and up again, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, select, text

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


def test_employer_contacts_are_sealed_going_up_and_opened_going_down(
    fresh_engine: Engine,
) -> None:
    from sqlalchemy.orm import Session

    from sscard.crypto import service as crypto_service
    from sscard.registry.units import sealing
    from sscard.registry.units.models import Employer

    migrate.upgrade("r0110_ecard_online", engine=fresh_engine)
    with fresh_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO registry_employer (credit_code, name, region_code, address,"
                " contact_name, contact_phone, status, created_at, updated_at) VALUES"
                " ('91370800MA3C00001X', '济宁甲公司', '370811', '', '张三丰', '13812341234',"
                "  'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
                " ('91370800MA3C00002X', '济宁乙公司', '370811', '', '', '',"
                "  'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    migrate.upgrade("head", engine=fresh_engine)

    columns = {c["name"] for c in inspect(fresh_engine).get_columns("registry_employer")}
    assert "contact_name" not in columns and "contact_phone" not in columns
    with fresh_engine.connect() as conn:
        raw = conn.execute(
            text(
                "SELECT contact_name_enc, contact_name_masked, contact_phone_enc,"
                " contact_phone_masked FROM registry_employer ORDER BY credit_code"
            )
        ).all()
    first, second = raw
    assert "张三丰".encode() not in bytes(first[0]) and b"13812341234" not in bytes(first[2])
    assert (first[1], first[3]) == ("张**", "138****1234")
    assert second == (None, "", None, "")

    crypto_service.forget_cached_keys()
    try:
        with Session(bind=fresh_engine) as session:
            employer = session.scalars(
                select(Employer).where(Employer.credit_code == "91370800MA3C00001X")
            ).one()
            assert sealing.reveal(employer, session) == sealing.Contact("张三丰", "13812341234")
    finally:
        crypto_service.forget_cached_keys()

    migrate.downgrade("r0110_ecard_online", engine=fresh_engine)
    with fresh_engine.connect() as conn:
        plain = conn.execute(
            text("SELECT contact_name, contact_phone FROM registry_employer ORDER BY credit_code")
        ).all()
    assert [tuple(r) for r in plain] == [("张三丰", "13812341234"), ("", "")]
