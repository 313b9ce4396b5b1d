"""The bounded TTL cache of the hot paths: bound, expiry, LRU order, clear, threads."""

from __future__ import annotations

import functools
import threading

import pytest

from sscard.kit.cache import TTLCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_cache_never_holds_more_than_its_bound() -> None:
    cache: TTLCache[int, int] = TTLCache(max_entries=3, ttl=None)
    for n in range(10):
        cache.put(n, n * n)
    assert len(cache) == 3
    assert [cache.get(n) for n in (7, 8, 9)] == [49, 64, 81]
    assert cache.get(0) is None


def test_an_entry_expires_after_its_time_to_live() -> None:
    clock = FakeClock()
    cache: TTLCache[str, str] = TTLCache(max_entries=10, ttl=5.0, clock=clock)
    cache.put("a", "x")
    clock.now += 4.9
    assert cache.get("a") == "x"
    clock.now += 0.1
    assert cache.get("a") is None
    assert "a" not in cache
    assert len(cache) == 0


def test_the_least_recently_used_entry_is_evicted_first() -> None:
    cache: TTLCache[str, int] = TTLCache(max_entries=2, ttl=None)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert "b" not in cache
    assert cache.get("a") == 1
    assert cache.get("c") == 3


def test_clear_and_pop_forget_entries() -> None:
    cache: TTLCache[str, int] = TTLCache(max_entries=5, ttl=10.0)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.pop("a") == 1
    assert cache.pop("a") is None
    cache.clear()
    assert len(cache) == 0
    assert cache.get("b", 7) == 7


def test_a_cached_none_is_a_value_not_a_miss() -> None:
    cache: TTLCache[str, int | None] = TTLCache(max_entries=5, ttl=10.0)
    calls: list[str] = []

    def load() -> int | None:
        calls.append("x")
        return None

    assert cache.get_or_load("k", load) is None
    assert cache.get_or_load("k", load) is None
    assert calls == ["x"]


def test_get_or_load_loads_again_once_the_entry_expired() -> None:
    clock = FakeClock()
    cache: TTLCache[str, int] = TTLCache(max_entries=5, ttl=1.0, clock=clock)
    values = iter([1, 2])
    assert cache.get_or_load("k", lambda: next(values)) == 1
    assert cache.get_or_load("k", lambda: next(values)) == 1
    clock.now += 1.0
    assert cache.get_or_load("k", lambda: next(values)) == 2


def test_the_bounds_must_make_sense() -> None:
    with pytest.raises(ValueError):
        TTLCache(max_entries=0, ttl=1.0)
    with pytest.raises(ValueError):
        TTLCache(max_entries=1, ttl=0)


def test_threads_share_one_cache_without_losing_its_bound_or_values() -> None:
    cache: TTLCache[int, int] = TTLCache(max_entries=50, ttl=60.0)
    start = threading.Barrier(8)
    wrong: list[tuple[int, int]] = []

    def work(offset: int) -> None:
        start.wait()
        for n in range(2000):
            key = (n + offset) % 120
            value = cache.get_or_load(key, functools.partial(int.__mul__, key, 3))
            if value != key * 3:
                wrong.append((key, value))
            if n % 7 == 0:
                cache.pop(key)
            if n % 500 == 0:
                cache.clear()

    threads = [threading.Thread(target=work, args=(i * 13,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    assert len(cache) <= 50


def test_racing_loaders_all_get_the_first_value_stored() -> None:
    cache: TTLCache[str, object] = TTLCache(max_entries=5, ttl=60.0)
    start = threading.Barrier(6)
    seen: list[object] = []
    lock = threading.Lock()

    def work() -> None:
        start.wait()
        value = cache.get_or_load("k", object)
        with lock:
            seen.append(value)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(v) for v in seen}) == 1
