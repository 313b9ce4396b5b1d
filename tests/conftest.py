"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured), Redis, a live
HTTP server, and Chromium when present. Optional backends skip with a reason in the summary."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from tests.support import Account, LiveServer, start_server, stop_server

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
"""``gw0``, ``gw1`` ... under pytest-xdist (each worker gets its own PostgreSQL database)."""


def _worker_url(url: str | None) -> str | None:
    """The PostgreSQL URL a test process uses: under xdist, the database name gets the worker id."""
    if not url or not WORKER:
        return url
    base, slash, name = url.rpartition("/")
    name, question, query = name.partition("?")
    return f"{base}{slash}{name}_{WORKER}{question}{query}"


BASE_PG_URL = os.environ.get("SSCARD_TEST_DATABASE_URL")
PG_URL = _worker_url(BASE_PG_URL)
REDIS_URL = os.environ.get("SSCARD_TEST_REDIS_URL")
CHROMIUM = "/usr/bin/chromium"

needs_postgres = pytest.mark.skipif(
    not PG_URL, reason="PostgreSQL tests need SSCARD_TEST_DATABASE_URL"
)
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="Redis tests need SSCARD_TEST_REDIS_URL")
needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"browser tests need {CHROMIUM}"
)

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=[needs_postgres, pytest.mark.postgres]),
]


@pytest.fixture(scope="session", autouse=True)
def test_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private data directory and master key for the whole run."""
    from sscard.settings import reset_settings

    data_dir = tmp_path_factory.mktemp("var")
    saved = dict(os.environ)
    os.environ.update(
        {
            "SSCARD_ENV": "test",
            "SSCARD_DATA_DIR": str(data_dir),
            "SSCARD_MASTER_KEY": secrets.token_hex(16),
            "SSCARD_DATABASE_URL": f"sqlite:///{data_dir}/default.db",
        }
    )
    os.environ.pop("SSCARD_REDIS_URL", None)
    reset_settings()
    from sscard import bootstrap

    bootstrap.wire()
    _create_worker_database()
    yield data_dir
    os.environ.clear()
    os.environ.update(saved)
    reset_settings()


def _create_worker_database() -> None:
    """Under xdist, create this worker's database next to the configured one (once)."""
    if not (BASE_PG_URL and PG_URL and PG_URL != BASE_PG_URL):
        return
    from sscard import db
    from sscard.settings import Settings

    name = PG_URL.rpartition("/")[2].partition("?")[0]
    engine = db.build_engine(Settings(database_url=BASE_PG_URL).database_url, pool_size=1)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
        if exists is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under xdist (``--dist loadgroup``), every test of one backend runs in the same worker, so
    a worker sets its session database up once instead of switching back and forth."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("database_url") if callspec is not None else None
        if backend is not None:
            item.add_marker(pytest.mark.xdist_group(name=str(backend)))


_RESET: set[str] = set()


def _reset_postgres(url: str) -> None:
    """Empty the PostgreSQL test database, once per test process (a later setup of the same
    session fixture keeps what the first one made, so cached look-ups stay true)."""
    if url in _RESET:
        return
    _RESET.add(url)
    from sscard import db

    engine = db.build_engine(url, pool_size=1)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, test_environment: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{test_environment}/sscard-test.db"
    assert PG_URL is not None
    from sscard.settings import Settings

    _create_worker_database()
    url = Settings(database_url=PG_URL).database_url
    _reset_postgres(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The platform's engine bound to a migrated test database."""
    from sscard import db
    from sscard.db import migrate

    os.environ["SSCARD_DATABASE_URL"] = database_url
    from sscard.settings import reset_settings

    reset_settings()
    engine = db.configure(database_url)
    from sscard import bootstrap

    bootstrap.reset_caches()
    migrate.upgrade("head", engine=engine)
    yield engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A real session whose work is rolled back after the test (commits become savepoints)."""
    connection = engine.connect()
    outer = connection.begin()
    sess = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield sess
    finally:
        sess.close()
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture
def redis_url() -> str:
    if not REDIS_URL:
        pytest.skip("Redis tests need SSCARD_TEST_REDIS_URL")
    return REDIS_URL


@pytest.fixture(scope="session")
def openssl() -> str:
    path = shutil.which("openssl")
    if path is None:
        pytest.skip("the openssl command is not installed")
    return path


@pytest.fixture(scope="session")
def live_server(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``sscard serve`` as its own process on the session's test database."""
    log = tmp_path_factory.mktemp("server") / f"server-{engine.dialect.name}.log"
    server = start_server(log)
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def make_account(engine: Engine) -> Callable[..., Account]:
    """Create (committed) an operator with the given roles; returns its credentials."""
    from sscard import db
    from sscard.iam import service as iam_service
    from sscard.iam.operators import service as operators_service
    from sscard.iam.schemas import OperatorCreate

    def make(*roles: str, institution: str | None = None) -> Account:
        username = f"t{secrets.token_hex(5)}"
        password = f"pw{secrets.token_hex(6)}1"
        with db.transaction() as session:
            inst = institution or iam_service.ensure_platform_institution(session).code
            operators_service.create_operator(
                session,
                data=OperatorCreate.model_validate(
                    {
                        "username": username,
                        "name": "测试员",
                        "institution_code": inst,
                        "roles": list(roles),
                        "password": password,
                    }
                ),
            )
        return Account(username, password, inst)

    return make
