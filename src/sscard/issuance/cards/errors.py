"""Errors of cards: lookup, lifecycle, applications, numbers, PINs, boxes."""

from sscard.errors import Conflict, NotFound, PermissionDenied, SSCardError


class CardNotFound(NotFound):
    code = "card_not_found"

    def __init__(self, message: str = "未找到该卡（或不在本机构服务区域内）") -> None:
        super().__init__(message)


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"


class ConcurrentChange(Conflict):
    code = "concurrent_change"

    def __init__(self) -> None:
        super().__init__("该卡正在被其他操作处理，请刷新后重试")


class ApplicationRefused(SSCardError):
    status_code = 422
    code = "application_refused"


class ActiveCardExists(Conflict):
    code = "active_card_exists"


class NumbersExhausted(Conflict):
    code = "card_numbers_exhausted"


class RestoreRefused(Conflict):
    code = "restore_refused"


class PinLocked(SSCardError):
    status_code = 423
    code = "pin_locked"

    def __init__(self) -> None:
        super().__init__("密码错误次数过多，卡片密码已锁定，请持身份证件到柜台重置")


class PinIncorrect(SSCardError):
    status_code = 422
    code = "pin_incorrect"


class NotYourCard(PermissionDenied):
    code = "not_your_card"


class BoxNotFound(NotFound):
    code = "box_not_found"


class ReceiptNotFound(NotFound):
    code = "receipt_not_found"

    def __init__(self) -> None:
        super().__init__("该卡没有这笔业务的柜面回执")
