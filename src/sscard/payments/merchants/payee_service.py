"""Merchants as payers' money reaches them: found by the code a QR or a terminal names,
whatever the region of whoever pays (payers are not operators and have no region)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sscard.payments.merchants import repository
from sscard.payments.merchants.models import Merchant


def payee(session: Session, *, code: str) -> Merchant | None:
    """The merchant with this code (any status), or None."""
    return repository.merchant_by_code(session, code.strip().upper())


def merchant_of_terminal(session: Session, *, terminal_code: str) -> Merchant | None:
    """The merchant a terminal takes payments for, or None when it is linked to none."""
    link = repository.terminal_link(session, terminal_code)
    return None if link is None else repository.merchant(session, link.merchant_id)
