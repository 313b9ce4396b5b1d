"""A transport operator (交通一卡通) simulator: enables the transit function."""

from __future__ import annotations

from fastapi import FastAPI

from peers.common import base_app
from peers.transport import transit


def create_app() -> FastAPI:
    """A transport operator (交通一卡通) simulator: enables the transit function."""
    app = base_app("transport")
    for module in (transit,):
        app.include_router(module.router)
    return app
