"""The list of routers: every component's API under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from sscard.audit import api as audit_api
from sscard.crypto import api as crypto_api
from sscard.ecard import api as ecard_api
from sscard.exchange import api as exchange_api
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.iam import api as iam_api
from sscard.issuance import api as issuance_api
from sscard.payments import api as payments_api
from sscard.registry import api as registry_api
from sscard.scenarios import api as scenarios_api

API_PREFIX = "/api/v1"
UPLOAD_PATHS = (
    f"{API_PREFIX}/imports",
    f"{API_PREFIX}/batches",
    "/registry/imports",
    "/payments/recon/imports",
)
"""Where large files are uploaded (bulk imports, card-making files, the reconciliation
page's daily files): SSCARD_MAX_UPLOAD_BYTES."""

COMPONENT_ROUTERS: tuple[APIRouter, ...] = (
    iam_api.router,
    audit_api.router,
    crypto_api.router,
    exchange_api.router,
    registry_api.router,
    issuance_api.router,
    scenarios_api.router,
    ecard_api.router,
    payments_api.router,
)


def api_router() -> APIRouter:
    """Every component's router, mounted under /api/v1."""
    router = APIRouter(route_class=UnitOfWorkRoute, prefix=API_PREFIX)
    for component_router in COMPONENT_ROUTERS:
        router.include_router(component_router)
    return router
