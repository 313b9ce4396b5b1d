"""Issuance routes, one module per sub-package: ``cards`` (applications, lookup, lifecycle,
PINs, handover, ranges, statistics), ``instant`` (bank branches, the province),
``activation`` (one-step activation, the card's bank) and ``batches`` (batch card making).

They live here rather than in each sub-package because the import contracts
(``.importlinter``) let only ``sscard.<component>.api`` and its modules use FastAPI."""

from fastapi import APIRouter

from sscard.httpkit.units import UnitOfWorkRoute
from sscard.issuance.api import activation as activation_api
from sscard.issuance.api import batches as batches_api
from sscard.issuance.api import cards as cards_api
from sscard.issuance.api import instant as instant_api

router = APIRouter(route_class=UnitOfWorkRoute)
for module in (cards_api, instant_api, activation_api, batches_api):
    router.include_router(module.router)
