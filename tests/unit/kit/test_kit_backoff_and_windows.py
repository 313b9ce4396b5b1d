from datetime import UTC, datetime, timedelta

import pytest

from sscard.kit.guard.windows import RateDecision, decision, stored_key, window
from sscard.kit.outbox import backoff_seconds


@pytest.mark.parametrize(
    ("attempt", "shortest", "longest"),
    [
        (1, 1, 2),
        (2, 2, 4),
        (3, 4, 8),
        (9, 256, 512),
        (10, 512, 600),
        (11, 600, 600),
        (500, 600, 600),
    ],
)
def test_the_retry_delay_doubles_up_to_the_cap_and_is_jittered_into_its_upper_half(
    attempt: int, shortest: float, longest: float
) -> None:
    assert backoff_seconds(attempt, base=2, cap=600, rand=lambda low, high: low) == shortest
    assert backoff_seconds(attempt, base=2, cap=600, rand=lambda low, high: high) == longest
    assert shortest <= backoff_seconds(attempt, base=2, cap=600) <= longest


def test_successive_retry_delays_never_shrink_whatever_the_jitter() -> None:
    for _ in range(200):
        delays = [backoff_seconds(a, base=2, cap=600) for a in range(1, 15)]
        assert delays == sorted(delays)
        assert delays[-1] == 600


def test_rate_windows_are_aligned_to_the_epoch() -> None:
    now = datetime(2026, 11, 25, 8, 0, 42, tzinfo=UTC)
    begins, ends = window(now, 60)
    assert begins == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert ends - begins == timedelta(seconds=60)


def test_a_refused_hit_says_how_long_to_wait() -> None:
    now = datetime(2026, 11, 25, 8, 0, 42, 500000, tzinfo=UTC)
    ends = datetime(2026, 11, 25, 8, 1, tzinfo=UTC)
    assert decision(3, 3, now, ends) == RateDecision(True, 0, 0)
    assert decision(4, 3, now, ends) == RateDecision(False, 0, 18)


def test_keys_carry_the_namespace_and_long_keys_are_hashed() -> None:
    assert stored_key("sscard", "claim", "qr:1") == "sscard:claim:qr:1"
    long = stored_key("sscard", "claim", "n" * 500)
    assert long.startswith("sscard:claim:sha256:") and len(long) == len("sscard:claim:sha256:") + 64
