"""Errors of the family service."""

from __future__ import annotations

from sscard.errors import Conflict, NotFound, SSCardError


class FamilyRefused(SSCardError):
    status_code = 422
    code = "family_refused"


class FamilyLimitReached(Conflict):
    code = "family_limit_reached"


class FamilyBindingExists(Conflict):
    code = "family_binding_exists"

    def __init__(self) -> None:
        super().__init__("已绑定该家庭成员（或正在等待其同意）")


class FamilyBindingNotFound(NotFound):
    code = "family_binding_not_found"

    def __init__(self) -> None:
        super().__init__("未找到该亲情服务绑定")


class ProxyPaymentRefused(SSCardError):
    status_code = 422
    code = "proxy_payment_refused"

    def __init__(self) -> None:
        super().__init__("亲情服务（代办）二维码不能用于支付")
