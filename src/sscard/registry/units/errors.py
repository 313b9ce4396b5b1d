"""Errors of the employer and community use cases."""

from sscard.errors import Conflict, NotFound


class EmployerNotFound(NotFound):
    code = "employer_not_found"


class EmployerExists(Conflict):
    code = "employer_exists"


class CommunityNotFound(NotFound):
    code = "community_not_found"


class CommunityExists(Conflict):
    code = "community_exists"
