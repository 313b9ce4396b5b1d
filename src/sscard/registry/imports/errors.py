"""Errors of bulk imports: a job not found or busy, a file refused before any row is read."""

from sscard.errors import Conflict, NotFound, SSCardError


class ImportJobNotFound(NotFound):
    code = "import_job_not_found"


class ImportFileInvalid(SSCardError):
    status_code = 422
    code = "import_file_invalid"


class ImportJobBusy(Conflict):
    code = "import_job_busy"
