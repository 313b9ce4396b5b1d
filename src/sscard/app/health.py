"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import os

from fastapi import APIRouter, Response
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

router = APIRouter(tags=["health"])


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


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics() -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        payload = generate_latest(registry)
    else:
        payload = generate_latest(REGISTRY)
    return Response(payload, media_type=CONTENT_TYPE_LATEST)
