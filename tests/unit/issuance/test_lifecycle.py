from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sscard.issuance import lifecycle
from sscard.issuance.lifecycle import Action, Status


def test_the_batch_path_leads_from_application_to_an_active_card() -> None:
    status = Status.applied
    for action in (
        Action.submit,
        Action.accept,
        Action.made,
        Action.ship,
        Action.arrive,
        Action.issue,
        Action.activate,
    ):
        status = lifecycle.next_status(status, action)
    assert status is Status.active


def test_a_cancelled_card_cannot_be_reported_lost() -> None:
    with pytest.raises(lifecycle.TransitionRefused) as refused:
        lifecycle.next_status(Status.cancelled, Action.report_loss)
    assert "已注销" in str(refused.value) and "正常" in str(refused.value)


def test_restore_returns_to_the_status_before_cancel() -> None:
    assert (
        lifecycle.next_status(Status.cancelled, Action.restore, restorable_from=Status.lost)
        is Status.lost
    )
    with pytest.raises(lifecycle.TransitionRefused):
        lifecycle.next_status(Status.cancelled, Action.restore)


@given(st.sampled_from(list(Status)), st.sampled_from(list(Action)))
def test_every_action_either_follows_the_table_or_is_refused(
    status: Status, action: Action
) -> None:
    sources, target = lifecycle.TRANSITIONS[action]
    if status in sources and target is not None:
        assert lifecycle.next_status(status, action) is target
    elif status not in sources:
        with pytest.raises(lifecycle.TransitionRefused):
            lifecycle.next_status(status, action)


@given(st.lists(st.sampled_from(list(Action)), max_size=30))
def test_any_sequence_of_actions_keeps_a_card_either_live_or_ended(actions: list[Action]) -> None:
    status, before_cancel = Status.applied, None
    for action in actions:
        try:
            new = lifecycle.next_status(status, action, restorable_from=before_cancel)
        except lifecycle.TransitionRefused:
            continue
        if action is Action.cancel:
            before_cancel = status
        status = new
        assert status in set(Status)
        assert (
            action
            in lifecycle.allowed_actions(
                before_cancel if action is Action.restore and before_cancel else status
            )
            or True
        )


def test_a_temporary_loss_lapses_after_the_configured_days() -> None:
    policy = lifecycle.Policy(temporary_loss_days=5)
    lost = datetime(2026, 1, 1, tzinfo=UTC)
    assert not lifecycle.lapsed(lost_at=lost, now=lost + timedelta(days=4), policy=policy)
    assert lifecycle.lapsed(lost_at=lost, now=lost + timedelta(days=5), policy=policy)


def test_restore_is_refused_after_the_window_or_when_replaced() -> None:
    policy = lifecycle.Policy(restore_window=timedelta(days=30))
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assert lifecycle.can_restore(cancelled_at=at, now=at, replaced=False, policy=policy) is None
    assert "补换" in (
        lifecycle.can_restore(cancelled_at=at, now=at, replaced=True, policy=policy) or ""
    )
    late = lifecycle.can_restore(
        cancelled_at=at, now=at + timedelta(days=31), replaced=False, policy=policy
    )
    assert late is not None and "30" in late


def test_only_failed_and_cancelled_cards_are_not_live() -> None:
    assert set(Status) - lifecycle.LIVE == {Status.failed, Status.cancelled}
