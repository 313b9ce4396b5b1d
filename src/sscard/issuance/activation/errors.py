"""Errors of one-step activation, bank changes and the card account's queries."""

from sscard.errors import Conflict


class ActivationInProgress(Conflict):
    code = "activation_in_progress"

    def __init__(self, message: str = "该卡的一站式启用正在办理中，请稍后查看进度") -> None:
        super().__init__(message)


class BankChangeRefused(Conflict):
    code = "bank_change_refused"


class NoBankAccount(Conflict):
    code = "no_bank_account"

    def __init__(self) -> None:
        super().__init__("该卡暂无银行账户信息（换绑服务银行尚未完成或为异地卡）")
