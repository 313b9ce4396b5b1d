"""``create_app()``: the whole platform as one ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from sscard import __version__, bootstrap, db
from sscard.app import docs, health, openapi
from sscard.app.gate import PlatformGate
from sscard.app.middleware import PlatformMiddleware
from sscard.app.routers import UPLOAD_PATHS, api_router
from sscard.httpkit import errors, gate
from sscard.settings import get_settings
from sscard.web import routes as web_routes


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Bound the threads that run blocking handlers: past the database pool they only
    queue for a connection, and under load many threads spend their time passing the GIL
    around instead of answering."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = get_settings().http_threads
    yield


def create_app() -> FastAPI:
    """Build the HTTP app: API, pages, health, metrics, one error body everywhere."""
    bootstrap.wire()
    gate.install(PlatformGate())
    settings = get_settings()
    db.get_engine()
    app = FastAPI(
        lifespan=_lifespan,
        title="sscard",
        version=__version__,
        summary="社会保障卡与居民服务一卡通平台 API",
        docs_url=None,
        redoc_url=None,
        openapi_url=docs.OPENAPI_PATH,
    )
    errors.install(app)
    app.include_router(health.router)
    app.include_router(docs.router)
    app.include_router(api_router())
    web_routes.install(app)
    openapi.install(app)
    app.add_middleware(
        PlatformMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        upload_paths=UPLOAD_PATHS,
    )
    return app
