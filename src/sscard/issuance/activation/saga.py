"""Pure rules of one-step activation and of changing the service bank (no I/O)."""

from __future__ import annotations

from sscard.issuance import lifecycle
from sscard.issuance.lifecycle import Status

EXTERNAL_STEPS = ("bank", "transport")


STEPS = (*EXTERNAL_STEPS, "card")


STEP_NAMES = {"bank": "银行账户启用", "transport": "交通功能开通", "card": "社保卡启用"}


STEP_STATUS_NAMES = {
    "pending": "办理中",
    "done": "已完成",
    "failed": "失败",
    "compensating": "撤销中",
    "compensated": "已撤销",
    "skipped": "无需办理",
}


OVERALL_NAMES = {
    "none": "未启用",
    "pending": "启用中",
    "done": "已启用",
    "failed": "启用失败",
    "compensating": "启用失败，正在撤销已办理的步骤",
}


BANK_CHANGE_STATUSES = frozenset({Status.issued, Status.active})


def overall(statuses: dict[str, str]) -> str:
    """The state of the whole saga from its steps' statuses."""
    if not statuses:
        return "none"
    found = set(statuses.values())
    if "compensating" in found:
        return "compensating"
    if "failed" in found:
        return "failed"
    if statuses.get("card") == "done":
        return "done"
    return "pending"


def bank_change_refusal(
    *,
    generation: int,
    status: Status,
    managed_here: bool,
    same_bank: bool,
    activation_running: bool,
    change_running: bool,
) -> str | None:
    """Why a card's service bank cannot be changed now, or None."""
    if generation < 3:
        return "第二代社保卡的银行账户写在卡内，不能换绑服务银行，请办理补换卡"
    if status not in BANK_CHANGE_STATUSES:
        return f"卡片当前状态为“{lifecycle.STATUS_NAMES[status]}”，仅已发放或正常状态的卡可换绑"
    if not managed_here:
        return "该卡由其他地市管理，请先办理地市卡转移"
    if same_bank:
        return "新服务银行与原服务银行相同"
    if activation_running:
        return "该卡的一站式启用正在办理中，请完成后再换绑"
    if change_running:
        return "该卡上一次换绑服务银行尚未完成"
    return None
