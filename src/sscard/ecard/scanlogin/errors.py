"""Errors of scan login: a ticket that is unknown, expired or already handled."""

from __future__ import annotations

from sscard.errors import Conflict, NotFound, SSCardError


class LoginTicketNotFound(NotFound):
    code = "login_ticket_not_found"

    def __init__(self) -> None:
        super().__init__("登录二维码不存在，请在网站上刷新二维码后重新扫码")


class LoginTicketExpired(SSCardError):
    status_code = 410
    code = "login_ticket_expired"

    def __init__(self) -> None:
        super().__init__("登录二维码已过期，请在网站上刷新二维码后重新扫码")


class LoginTicketUsed(Conflict):
    code = "login_ticket_used"

    def __init__(self) -> None:
        super().__init__("该登录二维码已处理，请勿重复扫码")
