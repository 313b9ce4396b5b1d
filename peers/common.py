"""What every peer shares: a small FastAPI app with a health route and a request log, and a
runner that says where the peer listens."""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from collections.abc import Awaitable, Callable

import uvicorn
from fastapi import FastAPI, Request, Response

ACCESS_LOG = "peers.access"
_DIGITS = re.compile(r"[^/]*\d[^/]*")


def logged_path(path: str) -> str:
    """The path as logged: a segment holding a digit (a card number, a batch number, an
    ID number) becomes ``*``, so no personal data reaches the log."""
    return _DIGITS.sub("*", path)


def base_app(title: str) -> FastAPI:
    """A peer's app: ``GET /healthz`` and one log line per request (method, path with
    numbers hidden, status, milliseconds; never bodies, query strings or headers)."""
    app = FastAPI(title=title, docs_url="/docs", redoc_url=None)
    log = logging.getLogger(f"{ACCESS_LOG}.{title}")

    @app.middleware("http")
    async def access_log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            log.info(
                "peer=%s method=%s path=%s status=%s ms=%.1f",
                title,
                request.method,
                logged_path(request.url.path),
                status,
                elapsed,
            )

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "peer": title}

    return app


def log_to_stdout() -> None:
    """Send the peers' request log to standard output, one line per request."""
    logger = logging.getLogger(ACCESS_LOG)
    if not any(h.get_name() == "peers-stdout" for h in logger.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.set_name("peers-stdout")
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def run(
    name: str,
    factory: Callable[[], FastAPI],
    default_port: int,
    *,
    prepare: Callable[[], object] | None = None,
) -> None:
    """``python -m peers.<name> [--host H] [--port P]``; ``prepare`` runs before serving
    (a party makes its signing key and publishes it to the trust folder then, so partners
    can import it before the first file travels). Prints where the peer listens, then one
    line per request."""
    parser = argparse.ArgumentParser(prog=f"python -m peers.{name}", description=factory.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    args = parser.parse_args()
    if prepare is not None:
        prepare()
    log_to_stdout()
    sys.stdout.write(f"peers.{name} listening on http://{args.host}:{args.port}\n")
    sys.stdout.flush()
    uvicorn.run(factory(), host=args.host, port=args.port, log_level="warning")
