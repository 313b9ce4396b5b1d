"""How the payments component joins the platform at start-up (called by ``bootstrap.wire``)."""

from __future__ import annotations

from sscard.kit import outbox
from sscard.payments.ledger import service as ledger_service
from sscard.payments.merchants import sealing as merchants_sealing


def wire() -> None:
    """Declare the encrypted merchant table for key rotation; let the worker void pending
    transfers whose timeout has passed."""
    merchants_sealing.register()
    outbox.register_housekeeping(
        "payments-ledger-void-expired",
        lambda session: ledger_service.void_expired(session),
    )
