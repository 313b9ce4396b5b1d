"""Errors of payment codes and merchant QR payments."""

from sscard.errors import Conflict, PermissionDenied


class CodeUsed(Conflict):
    """The payment code was already used (or a newer one was shown since)."""

    code = "code_used"


class CodeExpired(Conflict):
    code = "code_expired"


class CardNotUsable(Conflict):
    """The card behind the code cannot pay now (lost, cancelled, e-card not live)."""

    code = "card_not_usable"


class DayLimitReached(Conflict):
    code = "day_limit_reached"


class MerchantNotAccepting(Conflict):
    """The merchant is unknown to the platform or not active."""

    code = "merchant_not_accepting"


class TerminalNotForMerchant(PermissionDenied):
    """A terminal charges only for the merchant it is linked to."""

    code = "terminal_not_for_merchant"


class BillPaid(Conflict):
    """The bill number was already paid by another card or for another amount."""

    code = "bill_already_paid"
