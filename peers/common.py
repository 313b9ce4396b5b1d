"""What every peer shares: a small FastAPI app with a health route, and a runner."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI


def base_app(title: str) -> FastAPI:
    app = FastAPI(title=title, docs_url="/docs", redoc_url=None)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "peer": title}

    return app


def run(
    name: str,
    factory: Callable[[], FastAPI],
    default_port: int,
    *,
    prepare: Callable[[], object] | None = None,
) -> None:
    """``python -m peers.<name> [--host H] [--port P]``; ``prepare`` runs before serving
    (a party makes its signing key and publishes it to the trust folder then, so partners
    can import it before the first file travels)."""
    parser = argparse.ArgumentParser(prog=f"python -m peers.{name}", description=factory.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    args = parser.parse_args()
    if prepare is not None:
        prepare()
    uvicorn.run(factory(), host=args.host, port=args.port, log_level="warning")
