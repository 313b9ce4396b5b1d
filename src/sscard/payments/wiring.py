"""How the payments component joins the platform at start-up (called by ``bootstrap.wire``)."""

from __future__ import annotations

from sscard.kit import outbox
from sscard.payments.ledger import service as ledger_service


def wire() -> None:
    """Let the worker void pending transfers whose timeout has passed."""
    outbox.register_housekeeping(
        "payments-ledger-void-expired",
        lambda session: ledger_service.void_expired(session),
    )
