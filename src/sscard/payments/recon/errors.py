"""Errors of reconciliation."""

from __future__ import annotations

from sscard.errors import Conflict, NotFound, PermissionDenied


class ImportConflict(Conflict):
    """Another file was already imported for the same day, source and party."""

    code = "recon_import_conflict"


class DifferenceNotFound(NotFound):
    code = "recon_difference_not_found"


class DifferenceStateConflict(Conflict):
    """The difference is not in a state that allows the step (resolved twice ...)."""

    code = "recon_difference_state"


class SecondOperatorRequired(PermissionDenied):
    """Four-eyes: the operator who resolved a difference cannot approve it."""

    code = "recon_second_operator_required"
