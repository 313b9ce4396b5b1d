"""Every error of the external-access component: code translation, entity mappings, batch
files and peers."""

from __future__ import annotations

from sscard.errors import Conflict, FieldProblem, NotFound, SSCardError, ValidationFailed

# ---- code translation and entity mappings ------------------------------------------------


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


class UnresolvedCodeNotFound(NotFound):
    code = "unresolved_code_not_found"


# ---- batch card-making files -------------------------------------------------------------


class PackageRejected(SSCardError):
    """A package whose signature, digest, count or shape is wrong: refused whole."""

    status_code = 422
    code = "package_rejected"


class FileFormatUnknown(SSCardError):
    status_code = 422
    code = "file_format_unknown"


class TransferKeyInvalid(SSCardError):
    """A transfer key file that is not one, or lacks a field."""

    code = "transfer_key_invalid"


# ---- peers (the province, banks, the transport operator) ---------------------------------


class PeerUnavailable(SSCardError):
    """A peer could not be reached, did not answer in time or failed (5xx): retry later.

    The code names the peer (``bank_unavailable``, ``province_unavailable``,
    ``transport_unavailable``), as API clients have always seen it."""

    status_code = 503
    code = "peer_unavailable"

    def __init__(self, peer: str, message: str) -> None:
        super().__init__(message, code=f"{peer}_unavailable")
        self.peer = peer


class PeerRefused(SSCardError):
    """A peer answered and refused (400, 404, 409, 422): retrying will not help.

    ``reason`` is the peer's own message (masked); the code names the peer
    (``bank_refused``, ``province_refused``, ``transport_refused``)."""

    status_code = 502
    code = "peer_refused"

    def __init__(self, peer: str, message: str, *, reason: str = "") -> None:
        super().__init__(message, code=f"{peer}_refused")
        self.peer = peer
        self.reason = reason
