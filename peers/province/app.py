"""The province card management centre (省卡管) simulator."""

from __future__ import annotations

from fastapi import FastAPI

from peers.common import base_app
from peers.province import batch, cards


def create_app() -> FastAPI:
    """The province card management centre (省卡管) simulator."""
    app = base_app("province")
    for module in (
        batch,
        cards,
    ):
        app.include_router(module.router)
    return app
