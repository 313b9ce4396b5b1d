"""Errors of the merchant use cases."""

from sscard.errors import Conflict, NotFound


class MerchantNotFound(NotFound):
    code = "merchant_not_found"


class MerchantExists(Conflict):
    code = "merchant_exists"


class MerchantStatusConflict(Conflict):
    """The merchant's status does not allow the change (closing a closed merchant ...)."""

    code = "merchant_status_conflict"
