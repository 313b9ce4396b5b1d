"""Errors of clearing and settlement."""

from __future__ import annotations

from sscard.errors import Conflict, NotFound, PermissionDenied


class PaymentsBooksOutOfScope(PermissionDenied):
    code = "payments_books_out_of_scope"

    def __init__(self) -> None:
        super().__init__("清算与对账仅限平台机构的操作员办理")


class DayNotCleared(NotFound):
    code = "clearing_day_not_found"


class DayNotOver(Conflict):
    """A clearing day can be run only once its cut-off has passed."""

    code = "clearing_day_not_over"
