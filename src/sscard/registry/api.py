"""The registry's HTTP routes: persons, their photos, employers and communities, imports."""

from __future__ import annotations

from fastapi import APIRouter

from sscard.registry.imports import api as imports_api
from sscard.registry.persons import api as persons_api
from sscard.registry.photos import api as photos_api
from sscard.registry.units import api as units_api

router = APIRouter()
for sub in (persons_api, photos_api, units_api, imports_api):
    router.include_router(sub.router)
