"""Errors of batch card making."""

from sscard.errors import Conflict, NotFound


class BatchNotFound(NotFound):
    code = "batch_not_found"


class FailureNotFound(NotFound):
    code = "failure_not_found"


class BatchStateConflict(Conflict):
    code = "batch_state_conflict"


class NothingToExport(Conflict):
    code = "nothing_to_export"


class ResultImportBusy(Conflict):
    code = "result_import_busy"


class FailureStateConflict(Conflict):
    code = "failure_state_conflict"
