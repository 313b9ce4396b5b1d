"""Issuance routes: cards and their lifecycle, batch card making, instant card making."""

from fastapi import APIRouter

from sscard.issuance.api import batches, cards, instant

router = APIRouter()
for module in (cards, instant, batches):
    router.include_router(module.router)
