"""The registry's HTTP routes: persons, their photos, employers and communities, imports."""

from __future__ import annotations

from fastapi import APIRouter

from sscard.httpkit.units import UnitOfWorkRoute
from sscard.registry.api import imports as imports_api
from sscard.registry.api import persons as persons_api
from sscard.registry.api import photos as photos_api
from sscard.registry.api import units as units_api

router = APIRouter(route_class=UnitOfWorkRoute)
for sub in (persons_api, photos_api, units_api, imports_api):
    router.include_router(sub.router)
