"""Pure rules of one-step activation, bank change, transfer and the provincial record."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sscard.issuance.activation.saga import STEPS, bank_change_refusal, overall
from sscard.issuance.instant.province_rules import (
    is_city_code,
    province_cancel_refusal,
    transfer_refusal,
)
from sscard.issuance.lifecycle import HELD, Status

STEP_STATUSES = ("pending", "done", "failed", "compensating", "compensated", "skipped")


def test_the_saga_is_pending_until_the_card_step_is_done() -> None:
    assert overall({}) == "none"
    assert overall({"bank": "pending", "transport": "pending", "card": "pending"}) == "pending"
    assert overall({"bank": "done", "transport": "pending", "card": "pending"}) == "pending"
    assert overall({"bank": "done", "transport": "skipped", "card": "done"}) == "done"


def test_a_failed_step_fails_the_saga_and_undoing_shows_until_finished() -> None:
    failing = {"bank": "compensating", "transport": "failed", "card": "failed"}
    assert overall(failing) == "compensating"
    assert overall({**failing, "bank": "compensated"}) == "failed"
    assert overall({"bank": "failed", "transport": "pending", "card": "failed"}) == "failed"


@given(st.fixed_dictionaries({s: st.sampled_from(STEP_STATUSES) for s in STEPS}))
def test_the_saga_is_done_only_when_the_card_is_and_nothing_failed(
    statuses: dict[str, str],
) -> None:
    state = overall(statuses)
    if state == "done":
        assert statuses["card"] == "done"
        assert not {"failed", "compensating"} & set(statuses.values())
    if "failed" in statuses.values():
        assert state in ("failed", "compensating")


def _bank_change(**changes: object) -> str | None:
    values: dict[str, object] = {
        "generation": 3,
        "status": Status.active,
        "managed_here": True,
        "same_bank": False,
        "activation_running": False,
        "change_running": False,
    }
    values.update(changes)
    return bank_change_refusal(**values)  # type: ignore[arg-type]


def test_a_third_generation_issued_or_active_card_managed_here_may_change_bank() -> None:
    assert _bank_change() is None
    assert _bank_change(status=Status.issued) is None


def test_a_bank_change_is_refused_with_the_reason_a_clerk_can_act_on() -> None:
    assert "补换卡" in (_bank_change(generation=2) or "")
    assert "正式挂失" in (_bank_change(status=Status.lost) or "")
    assert "地市卡转移" in (_bank_change(managed_here=False) or "")
    assert "相同" in (_bank_change(same_bank=True) or "")
    assert "一站式启用" in (_bank_change(activation_running=True) or "")
    assert "尚未完成" in (_bank_change(change_running=True) or "")


def test_city_codes_are_city_level() -> None:
    assert is_city_code("370100") and is_city_code("110100")
    assert not is_city_code("370000") and not is_city_code("370811")
    assert not is_city_code("37010") and not is_city_code("ABCDEF")


def test_a_card_moves_into_or_out_of_this_city_only() -> None:
    here = "370800"
    assert (
        transfer_refusal(status=Status.active, from_region=here, to_region="370100", here=here)
        is None
    )
    assert (
        transfer_refusal(status=Status.lost, from_region="370100", to_region=here, here=here)
        is None
    )
    between = transfer_refusal(
        status=Status.active, from_region="370100", to_region="370200", here=here
    )
    assert between is not None and "只能转出本市" in between
    same = transfer_refusal(status=Status.active, from_region=here, to_region=here, here=here)
    assert same is not None and "已由" in same
    county = transfer_refusal(status=Status.active, from_region=here, to_region="370811", here=here)
    assert county is not None and "地市级" in county


@given(st.sampled_from(list(Status)))
def test_only_a_card_its_holder_has_may_be_transferred(status: Status) -> None:
    why = transfer_refusal(status=status, from_region="370800", to_region="370100", here="370800")
    assert (why is None) == (status in HELD)


def test_the_provincial_record_is_cancelled_after_the_card_by_the_managing_city_once() -> None:
    here = "370800"
    assert (
        province_cancel_refusal(
            status=Status.cancelled, managing_region=here, here=here, already=False
        )
        is None
    )
    assert (
        province_cancel_refusal(
            status=Status.failed, managing_region=here, here=here, already=False
        )
        is None
    )
    live = province_cancel_refusal(
        status=Status.active, managing_region=here, here=here, already=False
    )
    assert live is not None and "请先注销本地卡片" in live
    elsewhere = province_cancel_refusal(
        status=Status.cancelled, managing_region="370100", here=here, already=False
    )
    assert elsewhere is not None and "370100" in elsewhere
    twice = province_cancel_refusal(
        status=Status.cancelled, managing_region=here, here=here, already=True
    )
    assert twice is not None and "已注销" in twice
