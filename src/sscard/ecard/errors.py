"""E-card errors: each verification failure has its own stable code."""

from sscard.errors import Conflict, NotAuthenticated, NotFound, SSCardError


class CodeInvalid(SSCardError):
    status_code = 422
    code = "code_invalid"

    def __init__(self, message: str = "二维码无效") -> None:
        super().__init__(message)


class CodeExpired(SSCardError):
    status_code = 410
    code = "code_expired"

    def __init__(self) -> None:
        super().__init__("二维码已过期，请刷新后重新出示")


class CodeAlreadyUsed(Conflict):
    code = "code_already_used"

    def __init__(self) -> None:
        super().__init__("二维码已使用，请刷新后重新出示")


class CardSuspended(SSCardError):
    status_code = 423
    code = "card_suspended"

    def __init__(self) -> None:
        super().__init__("该社会保障卡已挂失，电子社保卡暂停使用")


class CardRevoked(SSCardError):
    status_code = 410
    code = "card_revoked"

    def __init__(self) -> None:
        super().__init__("该电子社保卡已注销")


class ECardNotFound(NotFound):
    code = "ecard_not_found"

    def __init__(self, message: str = "未找到电子社保卡") -> None:
        super().__init__(message)


class SigningRefused(SSCardError):
    status_code = 422
    code = "signing_refused"


class EcardPinIncorrect(NotAuthenticated):
    code = "ecard_pin_incorrect"


class EcardPinLocked(SSCardError):
    status_code = 423
    code = "ecard_pin_locked"

    def __init__(self) -> None:
        super().__init__(
            "电子社保卡密码错误次数过多，已锁定：请通过“重置电子社保卡密码”"
            "（社会保障卡及密码、人脸核验）或到柜台重置后再登录"
        )


class ResidentSessionInvalid(NotAuthenticated):
    code = "resident_session_invalid"

    def __init__(self) -> None:
        super().__init__("请重新登录电子社保卡")


class TooManyRequests(SSCardError):
    """Too many requests of one kind from one client address within a minute."""

    status_code = 429
    code = "too_many_requests"


class NoLiveCard(NotFound):
    code = "card_not_found"

    def __init__(self) -> None:
        super().__init__("您目前没有可办理业务的社会保障卡，请到社保服务窗口申领")


class InstantCardNotAllowed(Conflict):
    code = "instant_card_not_allowed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
