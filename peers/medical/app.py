"""A medical insurance system (医保) simulator: insured persons, rules, settlements."""

from __future__ import annotations

from fastapi import FastAPI

from peers.common import base_app
from peers.medical import control, settlement


def create_app() -> FastAPI:
    """A medical insurance system (医保) simulator: insured persons, rules, settlements."""
    app = base_app("medical")
    for module in (control, settlement):
        app.include_router(module.router)
    return app
