"""Single-use claims and rate limits, the same story on the database and on Redis."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from sscard import db
from sscard.kit import guard
from sscard.kit.errors import GuardUnavailable
from sscard.kit.guard import DatabaseGuard, KitClaim, RateDecision, RedisGuard
from sscard.settings import reset_settings


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 8, 0, 10, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class DatabaseBackend:
    """Every call is a separate client: its own session, connection and commit."""

    def __init__(self) -> None:
        self.clock = Clock()

    def claim(self, key: str, ttl: int) -> bool:
        with db.transaction() as session:
            return DatabaseGuard(session, clock=self.clock).claim(key, ttl)

    def hit(self, key: str, limit: int, window: int) -> RateDecision:
        with db.transaction() as session:
            return DatabaseGuard(session, clock=self.clock).hit(
                key, limit=limit, window_seconds=window
            )

    def hits(self, key: str, window: int) -> int:
        with db.transaction() as session:
            return DatabaseGuard(session, clock=self.clock).hits(key, window_seconds=window)

    def wait(self, seconds: int) -> None:
        self.clock.now += timedelta(seconds=seconds)


class RedisBackend:
    def __init__(self, url: str) -> None:
        self.clock = Clock()
        self.guard = RedisGuard(url, namespace=f"test-{secrets.token_hex(4)}", clock=self.clock)

    def claim(self, key: str, ttl: int) -> bool:
        return self.guard.claim(key, ttl)

    def hit(self, key: str, limit: int, window: int) -> RateDecision:
        return self.guard.hit(key, limit=limit, window_seconds=window)

    def hits(self, key: str, window: int) -> int:
        return self.guard.hits(key, window_seconds=window)

    def wait(self, seconds: int) -> None:
        self.clock.now += timedelta(seconds=seconds)
        time.sleep(seconds + 0.1)


Backend = DatabaseBackend | RedisBackend


@pytest.fixture(params=["database", "redis"])
def backend(request: pytest.FixtureRequest, clean_kit: Engine) -> Backend:
    if request.param == "redis":
        return RedisBackend(request.getfixturevalue("redis_url"))
    return DatabaseBackend()


def _together(count: int, action: Callable[[], object]) -> list[object]:
    """Run ``action`` in ``count`` threads released at the same moment."""
    gate = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(index: int) -> None:
        gate.wait()
        try:
            results[index] = action()
        except BaseException as exc:  # returned to the test, not lost in the thread
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_the_first_claim_wins_until_the_ttl_has_passed(backend: Backend) -> None:
    assert backend.claim("qr:1", 1)
    assert not backend.claim("qr:1", 1)
    assert backend.claim("qr:2", 1)
    backend.wait(1)
    assert backend.claim("qr:1", 60)
    assert not backend.claim("qr:1", 60)


def test_of_sixteen_concurrent_claims_exactly_one_wins_every_time(backend: Backend) -> None:
    for round_ in range(5):
        results = _together(16, partial(backend.claim, f"nonce:{round_}", 60))
        assert sorted(map(repr, results)) == ["False"] * 15 + ["True"], results


def test_hits_beyond_the_limit_are_refused_until_the_next_window(backend: Backend) -> None:
    decisions = [backend.hit("login:alice", 3, 60) for _ in range(4)]
    assert decisions == [
        RateDecision(True, 2, 0),
        RateDecision(True, 1, 0),
        RateDecision(True, 0, 0),
        RateDecision(False, 0, 50),
    ]
    assert backend.hit("login:bob", 3, 60).allowed
    backend.clock.now += timedelta(seconds=50)
    assert backend.hit("login:alice", 3, 60) == RateDecision(True, 2, 0)


def test_hits_are_read_without_being_counted(backend: Backend) -> None:
    assert backend.hits("pin:carol", 60) == 0
    backend.hit("pin:carol", 3, 60)
    backend.hit("pin:carol", 3, 60)
    assert backend.hits("pin:carol", 60) == backend.hits("pin:carol", 60) == 2
    assert backend.hits("pin:carol", 3600) == 0
    backend.clock.now += timedelta(seconds=60)
    assert backend.hits("pin:carol", 60) == 0


def test_concurrent_hits_are_all_counted(backend: Backend) -> None:
    results = _together(16, lambda: backend.hit("api:app-1", 5, 60))
    assert sum(1 for r in results if isinstance(r, RateDecision) and r.allowed) == 5, results
    assert backend.hit("api:app-1", 5, 60).remaining == 0


def test_a_claim_in_a_rolled_back_transaction_is_released(clean_kit: Engine) -> None:
    with pytest.raises(RuntimeError), db.transaction() as session:
        assert DatabaseGuard(session).claim("qr:9", 60)
        raise RuntimeError("the scan failed")
    with db.transaction() as session:
        assert DatabaseGuard(session).claim("qr:9", 60)


def test_the_database_guard_works_in_the_callers_own_session(session: Session) -> None:
    first = DatabaseGuard(session, namespace="counter-7")
    assert first.claim("qr:1", 60)
    assert not first.claim("qr:1", 60)
    assert DatabaseGuard(session, namespace="counter-8").claim("qr:1", 60)
    keys = session.scalars(select(KitClaim.key).order_by(KitClaim.key)).all()
    assert keys == ["counter-7:claim:qr:1", "counter-8:claim:qr:1"]


def test_expired_claims_and_windows_are_purged(session: Session) -> None:
    clock = Clock()
    guard_ = DatabaseGuard(session, clock=clock)
    guard_.claim("short", 5)
    guard_.claim("long", 3600)
    guard_.hit("login:alice", limit=5, window_seconds=60)
    assert guard.purge_expired(session, now=clock.now + timedelta(seconds=60)) == 2
    assert session.execute(select(func.count()).select_from(KitClaim)).scalar_one() == 1


def test_the_guard_is_redis_when_configured_else_the_database(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(guard.get_guard(session), DatabaseGuard)
    with monkeypatch.context() as patch:
        patch.setenv("SSCARD_REDIS_URL", "redis://127.0.0.1:1/0")
        reset_settings()
        chosen = guard.get_guard(session)
        assert isinstance(chosen, RedisGuard)
        with pytest.raises(GuardUnavailable):
            chosen.claim("qr:1", 60)
    reset_settings()
