"""The payments component's HTTP routes, one module per sub-package, under ``/payments``."""

from __future__ import annotations

from fastapi import APIRouter

from sscard.payments.api import disbursement as disbursement_api
from sscard.payments.api import ledger as ledger_api
from sscard.payments.api import merchants as merchants_api

router = APIRouter(prefix="/payments")
router.include_router(ledger_api.router)
router.include_router(merchants_api.router)
router.include_router(disbursement_api.router)
