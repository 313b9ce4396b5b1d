"""A card vendor (卡商) simulator: personalises cards and packs them in boxes."""

from __future__ import annotations

from fastapi import FastAPI

from peers.common import base_app
from peers.vendor import batch


def create_app() -> FastAPI:
    """A card vendor (卡商) simulator: personalises cards and packs them in boxes."""
    app = base_app("vendor")
    for module in (batch,):
        app.include_router(module.router)
    return app
