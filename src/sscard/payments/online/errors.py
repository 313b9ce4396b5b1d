"""Errors of online banking (网银支付)."""

from sscard.errors import Conflict, NotFound, SSCardError


class NoticeRefused(SSCardError):
    """A notice that is not well formed or whose signature does not hold."""

    status_code = 400
    code = "notice_refused"


class NoticeMismatch(Conflict):
    """A genuine notice that disagrees with the order (amount, order unknown)."""

    code = "notice_mismatch"


class OnlinePaymentRefused(Conflict):
    """The order cannot be paid by online banking now (already paid, closed, wrong channel)."""

    code = "online_payment_refused"


class OnlinePaymentNotFound(NotFound):
    code = "online_payment_not_found"
