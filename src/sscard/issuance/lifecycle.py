"""The social security card's life as a state machine (pure: no I/O).

Design overview
===============

::

    applied ─submit─> submitted ─accept─> making ─made─> made ─ship─> in_transit
      │  ▲               │                  │            │              │
      │  └─resubmit─ failed <─────fail──────┘            │           arrive
      │                                                  │              ▼
      └──make_instant (bank branch prints)──────────────>made ─arrive─> at_distribution_point
                                                         │              │
                                                         └────issue─────┴──issue──> issued
                                                                                    │
                                                                                 activate
                                                                                    ▼
      temporarily_lost <─report_temporary_loss─ active ─report_loss─> lost
        │    └─report_loss───────────────────────▲ ▲ ▲───unlock──────┘
        └─temporary_unlock / lapse────────────────┘ │
                                                     └─ restore (from cancelled, within a
                                                        window, when no replacement exists)
    cancel: from any state before cancelled (an application, a card in making, a lost card ...)

Invariants
----------
- A transition not in :data:`TRANSITIONS` is refused with the card's current status named.
- ``failed`` and ``cancelled`` are the only states a card leaves the "live" set by; the
  database allows one live card per person (a replacement cancels the old card and
  creates the new one in the same transaction).
- ``restore`` goes back to the status the card had when it was cancelled
  (``restorable_from``), only within ``restore_window`` and only if no replacement card
  was made for it: checked by :func:`can_restore`.
- A temporary loss lapses back to ``active`` after ``temporary_loss_days``
  (:func:`lapsed`), so a resident who forgot to unlock is not left without a card.
- PIN: ``max_pin_failures`` wrong PINs in a row lock the PIN (not the card); a counter
  reset with identity checked unlocks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Status(StrEnum):
    applied = "applied"
    submitted = "submitted"
    making = "making"
    made = "made"
    failed = "failed"
    in_transit = "in_transit"
    at_distribution_point = "at_distribution_point"
    issued = "issued"
    active = "active"
    temporarily_lost = "temporarily_lost"
    lost = "lost"
    cancelled = "cancelled"


STATUS_NAMES: dict[Status, str] = {
    Status.applied: "已申请",
    Status.submitted: "已报送省卡管",
    Status.making: "制卡中",
    Status.made: "已制卡",
    Status.failed: "制卡失败",
    Status.in_transit: "运送中",
    Status.at_distribution_point: "待领取",
    Status.issued: "已发放",
    Status.active: "正常",
    Status.temporarily_lost: "临时挂失",
    Status.lost: "正式挂失",
    Status.cancelled: "已注销",
}


class Action(StrEnum):
    submit = "submit"
    accept = "accept"
    made = "made"
    make_instant = "make_instant"
    fail = "fail"
    resubmit = "resubmit"
    ship = "ship"
    arrive = "arrive"
    issue = "issue"
    activate = "activate"
    report_temporary_loss = "report_temporary_loss"
    temporary_unlock = "temporary_unlock"
    lapse = "lapse"
    report_loss = "report_loss"
    unlock = "unlock"
    cancel = "cancel"
    restore = "restore"


ACTION_NAMES: dict[Action, str] = {
    Action.submit: "报送省卡管",
    Action.accept: "省卡管受理",
    Action.made: "制卡完成",
    Action.make_instant: "即时制卡",
    Action.fail: "制卡失败",
    Action.resubmit: "重新报送",
    Action.ship: "发运",
    Action.arrive: "到达发放网点",
    Action.issue: "发放",
    Action.activate: "启用",
    Action.report_temporary_loss: "临时挂失",
    Action.temporary_unlock: "临时挂失解挂",
    Action.lapse: "临时挂失到期自动解除",
    Action.report_loss: "正式挂失",
    Action.unlock: "解挂",
    Action.cancel: "注销",
    Action.restore: "注销还原",
}

NOTE_NAMES: dict[str, str] = {
    "apply": "制卡申请",
    "assign_number": "开户放号",
    "handover": "交接",
    "set_pin": "设置密码",
    "change_pin": "修改密码",
    "reset_pin": "重置密码",
    "transfer": "地市卡转移",
    "bank_change": "换绑服务银行",
    "download": "异地卡信息下载",
    "activation": "一站式启用",
    "activation_step": "一站式启用步骤",
    "activation_failed": "一站式启用失败",
    "activation_compensated": "一站式启用已撤销",
    "bank_bound": "新银行已绑定",
    "bank_unbound": "原银行已解绑",
    "bank_change_failed": "换绑失败",
    "province_cancel": "注销省级卡信息",
    "province_informed": "省卡管已确认",
    "province_refused": "省卡管拒绝",
    "failure_resolved": "制卡失败已处理",
    "failure_reopened": "制卡失败重新打开",
}
"""Timeline entries that do not change the status (applications, PINs, handover, the
one-step activation saga, bank changes, the province's answers), by the name each
sub-package records them under."""


def action_name(action: str) -> str:
    """The clerk's name of a timeline entry (a lifecycle action or a note), else the code."""
    try:
        return ACTION_NAMES[Action(action)]
    except ValueError:
        return NOTE_NAMES.get(action, action)


S, A = Status, Action
_BEFORE_CANCEL = frozenset(Status) - {S.cancelled}

TRANSITIONS: dict[Action, tuple[frozenset[Status], Status | None]] = {
    A.submit: (frozenset({S.applied}), S.submitted),
    A.accept: (frozenset({S.submitted}), S.making),
    A.made: (frozenset({S.making, S.submitted}), S.made),
    A.make_instant: (frozenset({S.applied}), S.made),
    A.fail: (frozenset({S.submitted, S.making}), S.failed),
    A.resubmit: (frozenset({S.failed}), S.applied),
    A.ship: (frozenset({S.made}), S.in_transit),
    A.arrive: (frozenset({S.made, S.in_transit}), S.at_distribution_point),
    A.issue: (frozenset({S.made, S.at_distribution_point}), S.issued),
    A.activate: (frozenset({S.issued}), S.active),
    A.report_temporary_loss: (frozenset({S.active}), S.temporarily_lost),
    A.temporary_unlock: (frozenset({S.temporarily_lost}), S.active),
    A.lapse: (frozenset({S.temporarily_lost}), S.active),
    A.report_loss: (frozenset({S.active, S.temporarily_lost}), S.lost),
    A.unlock: (frozenset({S.lost, S.temporarily_lost}), S.active),
    A.cancel: (_BEFORE_CANCEL, S.cancelled),
    A.restore: (frozenset({S.cancelled}), None),
}
"""action -> (statuses it may start from, status it leads to; None = the one before cancel)."""

LIVE = frozenset(Status) - {S.failed, S.cancelled}
"""A person holds at most one card in these statuses."""

HELD = frozenset({S.issued, S.active, S.temporarily_lost, S.lost})
"""Cards in a holder's hands (card-holding statistics count these)."""

USABLE = frozenset({S.active})
"""Only an active card may be used (and its e-card verified)."""

SUSPENDED = frozenset({S.temporarily_lost, S.lost})
"""A card reported lost: its e-card copies are suspended."""


@dataclass(frozen=True, slots=True)
class Policy:
    """The knobs of the lifecycle (from settings)."""

    temporary_loss_days: int = 5
    restore_window: timedelta = timedelta(days=30)
    max_pin_failures: int = 3


class TransitionRefused(ValueError):
    """The action is not allowed from the card's current status."""

    def __init__(self, action: Action, status: Status) -> None:
        allowed = "、".join(STATUS_NAMES[s] for s in sorted(TRANSITIONS[action][0]))
        super().__init__(
            f"卡片当前状态为“{STATUS_NAMES[status]}”，不能{ACTION_NAMES[action]}"
            f"（仅限{allowed}状态）"
        )
        self.action, self.status = action, status


def allowed_actions(status: Status) -> list[Action]:
    """The actions that may be taken from ``status``."""
    return [action for action, (sources, _) in TRANSITIONS.items() if status in sources]


def next_status(status: Status, action: Action, *, restorable_from: Status | None = None) -> Status:
    """The status after ``action``, or :class:`TransitionRefused`."""
    sources, target = TRANSITIONS[action]
    if status not in sources:
        raise TransitionRefused(action, status)
    if target is None:
        if restorable_from is None or restorable_from is S.cancelled:
            raise TransitionRefused(action, status)
        return restorable_from
    return target


def can_restore(
    *, cancelled_at: datetime, now: datetime, replaced: bool, policy: Policy
) -> str | None:
    """Why a cancellation cannot be undone, or None if it can."""
    if replaced:
        return "该卡已补换新卡，不能注销还原"
    if now - cancelled_at > policy.restore_window:
        return f"注销已超过 {policy.restore_window.days} 天，不能还原"
    return None


def lapsed(*, lost_at: datetime, now: datetime, policy: Policy) -> bool:
    """Whether a temporary loss reported at ``lost_at`` has lapsed by ``now``."""
    return now - lost_at >= timedelta(days=policy.temporary_loss_days)


def pin_locked(failures: int, policy: Policy) -> bool:
    return failures >= policy.max_pin_failures
