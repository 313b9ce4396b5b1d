"""Storage: engine, typed declarative base, and the one-transaction-per-unit-of-work rule.

The request (or CLI command) owns the transaction through :func:`transaction`; services only
``flush()``. SQLite gets WAL, foreign keys and a busy timeout; PostgreSQL goes through
psycopg 3.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Dialect,
    Engine,
    Integer,
    MetaData,
    create_engine,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from sscard.settings import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use sscard.db.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


BigIntPK = BigInteger().with_variant(Integer(), "sqlite")
"""Auto-increment primary key: BIGINT on PostgreSQL, INTEGER (rowid) on SQLite."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


CHINA_TZ = timezone(timedelta(hours=8), "CST")
"""China Standard Time (UTC+8, no daylight saving): how clerks read and write times."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """A datetime given without an offset is read as China Standard Time."""
    return value.replace(tzinfo=CHINA_TZ) if value.tzinfo is None else value


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id() -> str:
    """A 26-character, time-ordered, random identifier (ULID layout).

    Used as the primary key of rows whose id must exist before the row is written, such as
    rows with encrypted fields bound to their id.
    """
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide where transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # Take the write lock up front: a unit of work that reads and then writes cannot be
    # overtaken between the two (SQLite allows one writer at a time anyway).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:":
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)


def build_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Make an engine for ``url`` with the platform's connection settings."""
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        if ":memory:" in url or url in ("sqlite://", "sqlite+pysqlite://"):
            engine = create_engine(
                url, connect_args={"check_same_thread": False}, poolclass=StaticPool
            )
        else:
            engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 10}, pool_size=pool_size
            )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)


_engine: Engine | None = None
_session_factory: sessionmaker[Session] | None = None


def configure(url: str | None = None) -> Engine:
    """(Re)bind the process to a database; the default comes from settings."""
    global _engine, _session_factory
    if _engine is not None:
        _engine.dispose()
    settings = get_settings()
    _engine = build_engine(url or settings.database_url, pool_size=settings.db_pool_size)
    _session_factory = sessionmaker(_engine, expire_on_commit=False)
    return _engine


def get_engine() -> Engine:
    if _engine is None:
        return configure()
    return _engine


def session_factory() -> sessionmaker[Session]:
    if _session_factory is None:
        configure()
    if _session_factory is None:  # pragma: no cover - configure() always sets it
        raise RuntimeError("database not configured")
    return _session_factory


AfterRollback = Callable[[Session], None]
_AFTER_ROLLBACK = "sscard.after_rollback"


def after_rollback(session: Session, action: AfterRollback) -> None:
    """Run ``action`` in a fresh transaction if this unit of work is rolled back.

    For the few facts that must be kept precisely when the work fails: a failed login
    attempt, a refused access in the audit log.
    """
    session.info.setdefault(_AFTER_ROLLBACK, []).append(action)


def _run_after_rollback(session: Session) -> None:
    actions: list[AfterRollback] = session.info.pop(_AFTER_ROLLBACK, [])
    if not actions:
        return
    with transaction() as fresh:
        for action in actions:
            action(fresh)


@contextmanager
def transaction() -> Iterator[Session]:
    """One unit of work: commit when the block ends, roll back if it raises."""
    session = session_factory()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        session.close()
        _run_after_rollback(session)
        raise
    finally:
        session.close()


def snapshot(session: Session) -> None:
    """Let every read of ``session``'s coming transaction see one snapshot of the database.

    For checks that read a large database in many statements (``ledger verify``) while it
    keeps taking writes: on PostgreSQL the transaction runs ``REPEATABLE READ``, so rows
    committed meanwhile are in none of its reads rather than in some. SQLite needs nothing
    (every unit of work holds the write lock from its start). A session whose transaction
    has already begun keeps the isolation it began with.
    """
    if session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def ping() -> None:
    """Raise if the database cannot be reached."""
    with get_engine().connect() as connection:
        connection.execute(text("SELECT 1"))
