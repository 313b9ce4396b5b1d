"""How the payments component joins the platform at start-up (called by ``bootstrap.wire``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sscard.kit import context, outbox
from sscard.payments.disbursement import dispatch as disbursement_dispatch
from sscard.payments.ledger import service as ledger_service
from sscard.payments.merchants import sealing as merchants_sealing


def wire() -> None:
    """Declare the encrypted merchant table for key rotation; let the worker void pending
    transfers whose timeout has passed and retry benefit payments refused for a cancelled
    card once the replacement card is live."""
    merchants_sealing.register()
    outbox.register_housekeeping(
        "payments-ledger-void-expired",
        lambda session: ledger_service.void_expired(session),
    )
    outbox.register_housekeeping("payments-disbursement-retry", _retry_disbursements)


def _retry_disbursements(_session: Session) -> int:
    """The worker's retry step; it talks to the banks, so it runs in transactions of its
    own (the session it is handed stays unused)."""
    report = disbursement_dispatch.retry_due(actor=context.current().actor)
    return report.lines_retried
