"""Errors of medical settlement."""

from sscard.errors import Conflict, NotFound, SSCardError


class SettlementNotFound(NotFound):
    code = "medical_settlement_not_found"


class SettlementStatusConflict(Conflict):
    """The settlement's status does not allow the step (refunding a failed settlement ...)."""

    code = "medical_settlement_status_conflict"


class QualificationNotFound(NotFound):
    code = "chronic_qualification_not_found"


class QualificationExists(Conflict):
    code = "chronic_qualification_exists"


class CashRefused(SSCardError):
    """The card's bank refused to credit the cash part back (the refund can be asked again)."""

    status_code = 502
    code = "medical_cash_refused"
