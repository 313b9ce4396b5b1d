"""Errors of code translation: unknown systems and sets, unmapped values, rejected files."""

from __future__ import annotations

from sscard.errors import Conflict, FieldProblem, NotFound, SSCardError, ValidationFailed


class SystemNotFound(NotFound):
    code = "system_not_found"


class CodeSetNotFound(NotFound):
    code = "code_set_not_found"


class CodeNotFound(NotFound):
    code = "code_not_found"


class MappingNotFound(NotFound):
    code = "mapping_not_found"


class CodeSetNotMapped(SSCardError):
    """The system has no table for the set at all (no field name, no codes)."""

    status_code = 422
    code = "code_set_not_mapped"


class CodeUnmapped(SSCardError):
    """A value with no counterpart in the other system's codes."""

    status_code = 422
    code = "code_unmapped"


class MappingConflict(Conflict):
    """An external code (or field name) already belongs to another of our codes (or sets)."""

    code = "mapping_conflict"


class FileUnreadable(SSCardError):
    """Not a CSV file we can read: wrong encoding, missing columns, nothing in it."""

    status_code = 422
    code = "file_unreadable"


class ImportRejected(ValidationFailed):
    """At least one row of an import file is wrong; nothing was changed."""

    code = "import_rejected"

    def __init__(self, problems: list[FieldProblem], message: str) -> None:
        super().__init__(problems, message)
