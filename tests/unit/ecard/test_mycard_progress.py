"""The making progress the wallet shows for my card (pure)."""

from __future__ import annotations

from sscard.ecard.mycard import INSTANT_PROGRESS, PROGRESS, _steps


def test_a_card_in_making_shows_the_steps_done_and_the_current_one() -> None:
    steps = _steps("making")
    assert [s.name for s in steps if s.done] == ["已申请", "已报送省卡管", "制卡中"]
    assert [s.name for s in steps if s.current] == ["制卡中"]


def test_a_card_in_use_or_lost_has_every_step_done() -> None:
    for status in ("active", "temporarily_lost", "lost"):
        steps = _steps(status)
        assert all(s.done for s in steps) and len(steps) == len(PROGRESS)
        assert steps[-1].current


def test_a_failed_or_cancelled_card_shows_no_step_done() -> None:
    for status in ("failed", "cancelled"):
        assert not any(s.done or s.current for s in _steps(status))


def test_an_instant_card_waiting_for_its_branch_shows_the_branch_steps() -> None:
    steps = _steps("applied", "instant")
    assert [s.name for s in steps] == [name for _, name in INSTANT_PROGRESS]
    assert [s.name for s in steps if s.current] == ["已申请，待到网点制卡"]
    assert [s.done for s in _steps("issued", "instant")] == [True, True, False]
