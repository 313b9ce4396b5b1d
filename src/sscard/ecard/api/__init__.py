"""E-card routes: signing, sessions and codes, verification, online services, authorisation,
scan login and the family service (one ``router``, all under ``/ecard``)."""

from fastapi import APIRouter

from sscard.ecard.api import codes, family, mycard, oauth, online, scanlogin
from sscard.httpkit.units import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute)
for module in (codes, online, mycard, oauth, scanlogin, family):
    router.include_router(module.router)
