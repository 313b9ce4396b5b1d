"""Errors of instant card making and of the cards' records at the province."""

from sscard.errors import Conflict, NotFound, PermissionDenied


class IdempotencyMismatch(Conflict):
    code = "idempotency_key_reused"


class BankBranchOnly(PermissionDenied):
    code = "bank_branch_only"

    def __init__(self) -> None:
        super().__init__("即时制卡接口仅供合作银行网点的经办人员调用")


class NotInstantCard(Conflict):
    code = "not_instant_card"


class OffsiteCardNotFound(NotFound):
    code = "offsite_card_not_found"

    def __init__(self) -> None:
        super().__init__("省卡管中没有该人员在外地市发行、仍在使用的社会保障卡")


class TransferRefused(Conflict):
    code = "transfer_refused"


class ProvinceCancelRefused(Conflict):
    code = "province_cancel_refused"
