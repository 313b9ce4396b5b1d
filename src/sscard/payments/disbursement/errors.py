"""Errors of benefit disbursement."""

from sscard.errors import Conflict, NotFound


class BatchNotFound(NotFound):
    code = "disbursement_batch_not_found"


class LineNotFound(NotFound):
    code = "disbursement_line_not_found"


class BatchStateConflict(Conflict):
    """The batch's status does not allow the step (sending a closed batch ...)."""

    code = "disbursement_batch_state"


class LineStateConflict(Conflict):
    """The line's status does not allow the step (resolving a paid line ...)."""

    code = "disbursement_line_state"


class DuplicateFile(Conflict):
    """The same file (by SM3) was imported before as another batch."""

    code = "disbursement_file_duplicate"
