"""How the payments component joins the platform at start-up (called by ``bootstrap.wire``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sscard.kit import context, events, outbox
from sscard.kit.context import SYSTEM
from sscard.payments.clearing import service as clearing_service
from sscard.payments.contributions import service as contributions_service
from sscard.payments.disbursement import dispatch as disbursement_dispatch
from sscard.payments.ledger import service as ledger_service
from sscard.payments.medical import settle_service as medical_settle
from sscard.payments.merchants import sealing as merchants_sealing
from sscard.payments.online.events import OnlinePaymentConfirmed
from sscard.payments.orders import service as orders_service


def _resolve_orders(_session: Session) -> int:
    """Settle orders and refunds whose bank answer was not known (their own transactions:
    the bank is never called inside the worker's)."""
    orders = orders_service.resolve_paying(actor=SYSTEM)
    refunds = orders_service.resolve_refunds()
    return sum(o.status != "paying" for o in orders) + sum(r.status != "pending" for r in refunds)


def wire() -> None:
    """Declare the encrypted merchant table for key rotation; let the worker void pending
    transfers whose timeout has passed, close expired orders and settle unknown outcomes;
    report paid contributions to the social insurance system, whichever way they were paid;
    retry benefit payments refused for a cancelled card once the replacement card is live;
    clear each day once its cut-off has passed."""
    merchants_sealing.register()
    outbox.register_housekeeping(
        "payments-ledger-void-expired",
        lambda session: ledger_service.void_expired(session),
    )
    outbox.register_housekeeping(
        "payments-orders-close-expired",
        lambda session: orders_service.close_expired(session),
    )
    outbox.register_housekeeping("payments-orders-resolve", _resolve_orders)
    outbox.register_destination(
        contributions_service.REPORT, contributions_service.deliver_report, max_attempts=12
    )
    outbox.register_housekeeping(
        "payments-contributions-sync",
        lambda session: contributions_service.sync_paid(session),
    )
    events.subscribe(OnlinePaymentConfirmed, contributions_service.on_online_payment)
    outbox.register_housekeeping(
        "payments-medical-resolve", lambda _session: medical_settle.resolve_paying()
    )
    outbox.register_housekeeping("payments-disbursement-retry", _retry_disbursements)
    outbox.register_housekeeping(
        "payments-clearing-day", lambda session: clearing_service.run_due(session)
    )


def _retry_disbursements(_session: Session) -> int:
    """The worker's retry step; it talks to the banks, so it runs in transactions of its
    own (the session it is handed stays unused)."""
    report = disbursement_dispatch.retry_due(actor=context.current().actor)
    return report.lines_retried
