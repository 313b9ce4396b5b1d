"""``create_app()``: the whole platform as one ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import APIRouter, FastAPI

from sscard import __version__, bootstrap, db
from sscard.api import errors, health
from sscard.api.middleware import PlatformMiddleware
from sscard.settings import get_settings

API_PREFIX = "/api/v1"
UPLOAD_PATHS = (f"{API_PREFIX}/imports", f"{API_PREFIX}/batches")
"""Where large files are uploaded (bulk imports, card-making files): SSCARD_MAX_UPLOAD_BYTES."""


def api_router() -> APIRouter:
    """Every component's router, mounted under /api/v1."""
    from sscard.audit import api as audit_api
    from sscard.crypto import api as crypto_api
    from sscard.ecard import api as ecard_api
    from sscard.exchange import api as exchange_api
    from sscard.iam import api as iam_api
    from sscard.issuance import api as issuance_api
    from sscard.registry import api as registry_api
    from sscard.scenarios import api as scenarios_api

    router = APIRouter(prefix=API_PREFIX)
    modules = [
        iam_api,
        audit_api,
        crypto_api,
        exchange_api,
        registry_api,
        issuance_api,
        scenarios_api,
        ecard_api,
    ]
    for module in modules:
        router.include_router(module.router)
    return router


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
    settings = get_settings()
    db.get_engine()
    app = FastAPI(
        lifespan=_lifespan,
        title="sscard",
        version=__version__,
        summary="社会保障卡与居民服务一卡通平台 API",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    errors.install(app)
    app.include_router(health.router)
    app.include_router(api_router())
    from sscard.web import routes as web_routes

    web_routes.install(app)
    app.add_middleware(
        PlatformMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        upload_paths=UPLOAD_PATHS,
    )
    return app
