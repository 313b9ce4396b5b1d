"""Errors of orders and refunds, in a clerk's words."""

from __future__ import annotations

from sscard.errors import Conflict, FieldProblem, NotFound


class OrderNotFound(NotFound):
    code = "order_not_found"


class RefundNotFound(NotFound):
    code = "refund_not_found"


class OrderConflict(Conflict):
    """The same merchant order number with other content (another amount ...)."""

    code = "order_conflict"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, fields=[FieldProblem(field, message)])


class OrderStatusConflict(Conflict):
    """The order's status does not allow it (paying a closed order, refunding an unpaid one)."""

    code = "order_status_conflict"


class MerchantCannotTrade(Conflict):
    """The merchant is suspended or closed: it takes no new order."""

    code = "merchant_not_active"


class CardCannotPay(Conflict):
    """The card cannot pay: lost, frozen, cancelled, not activated, no bank account."""

    code = "card_cannot_pay"


class RefundTooLarge(Conflict):
    code = "refund_too_large"

    def __init__(self, message: str) -> None:
        super().__init__(message, fields=[FieldProblem("amount_fen", message)])


class RefundConflict(Conflict):
    """The same refund number with other content."""

    code = "refund_conflict"

    def __init__(self, message: str) -> None:
        super().__init__(message, fields=[FieldProblem("refund_no", message)])
