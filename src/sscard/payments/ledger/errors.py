"""Ledger errors: each with a status and a stable code, messages in a clerk's words."""

from __future__ import annotations

from sscard.errors import Conflict, NotFound, PermissionDenied


class AccountNotFound(NotFound):
    code = "ledger_account_not_found"


class TransferNotFound(NotFound):
    code = "ledger_transfer_not_found"


class AccountExists(Conflict):
    """An account code already names an account with other flags or another kind."""

    code = "ledger_account_exists"


class TransferRefused(Conflict):
    """A transfer the rules (or the database) refuse: overdraw, mismatch, expiry ..."""

    code = "ledger_transfer_refused"

    def __init__(self, message: str, *, index: int = 0) -> None:
        super().__init__(message)
        self.index = index
        """The position of the refused transfer in its linked chain (0 for a single one)."""


class RefReused(Conflict):
    """A reference already names a transfer with other content."""

    code = "ledger_ref_reused"


class LedgerOutOfScope(PermissionDenied):
    code = "ledger_out_of_scope"

    def __init__(self) -> None:
        super().__init__("总账仅限平台机构的操作员查询")
