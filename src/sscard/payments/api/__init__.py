"""The payments component's HTTP routes, one module per sub-package, under ``/payments``."""

from __future__ import annotations

from fastapi import APIRouter

from sscard.httpkit.units import UnitOfWorkRoute
from sscard.payments.api import clearing as clearing_api
from sscard.payments.api import contributions as contributions_api
from sscard.payments.api import disbursement as disbursement_api
from sscard.payments.api import ledger as ledger_api
from sscard.payments.api import medical as medical_api
from sscard.payments.api import merchants as merchants_api
from sscard.payments.api import online as online_api
from sscard.payments.api import orders as orders_api
from sscard.payments.api import paycodes as paycodes_api
from sscard.payments.api import recon as recon_api

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/payments")
router.include_router(ledger_api.router)
router.include_router(merchants_api.router)
router.include_router(medical_api.router)
router.include_router(orders_api.router)
router.include_router(paycodes_api.router)
router.include_router(online_api.router)
router.include_router(contributions_api.router)
router.include_router(disbursement_api.router)
router.include_router(clearing_api.router)
router.include_router(recon_api.router)
