"""Schema migrations (Alembic) behind ``sscard db upgrade|downgrade|current``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from sscard import db

ROOT = Path(__file__).resolve().parents[3]


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["engine"] = engine or db.get_engine()
    return config


def _with_connection(engine: Engine | None, action: str, revision: str) -> None:
    engine = engine or db.get_engine()
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def upgrade(revision: str = "head", *, engine: Engine | None = None) -> None:
    _with_connection(engine, "upgrade", revision)


def downgrade(revision: str, *, engine: Engine | None = None) -> None:
    _with_connection(engine, "downgrade", revision)


def current(engine: Engine | None = None) -> list[str]:
    engine = engine or db.get_engine()
    with engine.connect() as connection:
        return list(MigrationContext.configure(connection).get_current_heads())


def heads() -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config()).get_heads())


def is_up_to_date(engine: Engine | None = None) -> bool:
    return set(current(engine)) == set(heads())
