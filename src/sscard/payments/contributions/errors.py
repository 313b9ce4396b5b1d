"""Errors of contributions (人社缴费)."""

from sscard.errors import Conflict, NotFound


class ContributionYearPaid(Conflict):
    """The person already paid the contribution of that year."""

    code = "contribution_year_paid"


class ContributionNotFound(NotFound):
    code = "contribution_not_found"


class ContributionNotPayable(Conflict):
    code = "contribution_not_payable"
