"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
import os

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from sscard import __version__, db
from sscard.db import migrate
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.settings import get_settings

router = APIRouter(route_class=UnitOfWorkRoute, tags=["health"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/readyz", summary="The database is reachable and migrated")
def readyz() -> JSONResponse:
    try:
        db.ping()
    except Exception:  # noqa: BLE001 - any failure means not ready
        return JSONResponse(
            {"error": "not_ready", "detail": "数据库不可用", "fields": []}, status_code=503
        )
    if not migrate.is_up_to_date():
        return JSONResponse(
            {
                "error": "not_ready",
                "detail": "数据库结构不是最新版本，请执行 sscard db upgrade",
                "fields": [],
            },
            status_code=503,
        )
    return JSONResponse({"status": "ready", "database": db.get_engine().dialect.name})


def _metrics_allowed(request: Request) -> bool:
    """Open when ``SSCARD_METRICS_TOKEN`` is unset; else only with that bearer token."""
    token = get_settings().metrics_token
    if token is None:
        return True
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    expected = token.get_secret_value()
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip(), expected)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    if not _metrics_allowed(request):
        return JSONResponse(
            {"error": "not_authenticated", "detail": "需要监控令牌（Bearer）", "fields": []},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        payload = generate_latest(registry)
    else:
        payload = generate_latest(REGISTRY)
    return Response(payload, media_type=CONTENT_TYPE_LATEST)
