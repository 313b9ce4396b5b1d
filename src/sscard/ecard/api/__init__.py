"""E-card routes: signing and codes, verification, online services, authorisation."""

from fastapi import APIRouter

from sscard.ecard.api import codes, online

router = APIRouter()
for module in (codes, online):
    router.include_router(module.router)
