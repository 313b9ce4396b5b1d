"""Errors of the merchant use cases."""

from sscard.errors import Conflict, NotFound


class MerchantNotFound(NotFound):
    code = "merchant_not_found"


class MerchantExists(Conflict):
    code = "merchant_exists"


class MerchantStatusConflict(Conflict):
    """The merchant's status does not allow the change (closing a closed merchant ...)."""

    code = "merchant_status_conflict"


class TerminalLinkedElsewhere(Conflict):
    """The terminal already takes payments for another merchant."""

    code = "terminal_linked_elsewhere"


class TerminalNotLinked(NotFound):
    code = "terminal_not_linked"
