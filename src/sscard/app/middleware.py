"""Pure ASGI middleware: request id and access context, body-size limit, metrics, the
baseline security headers."""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sscard.httpkit import units
from sscard.httpkit.errors import BodyTooLarge
from sscard.kit import context

REQUEST_ID_HEADER = "x-request-id"
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

REQUESTS = Counter("sscard_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "sscard_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


BASELINE_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)
"""Added to every response that does not set them itself; pages add their
Content-Security-Policy in ``sscard.web.pages.render``."""


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _too_large_body(limit: int) -> bytes:
    detail = f"请求内容过大（上限 {limit // 1024} KB）"
    return json.dumps(
        {"error": "request_too_large", "detail": detail, "fields": []}, ensure_ascii=False
    ).encode()


NUL_REASON = "不能包含空字符（0x00）"


def _nul_fields(scope: Scope) -> list[str]:
    """Path and query parameters holding a NUL character, which no database column takes
    (PostgreSQL refuses it outright): refused here as bad input, naming them."""
    fields = ["path"] if "\x00" in str(scope.get("path", "")) else []
    raw = bytes(scope.get("query_string", b""))
    if b"%00" in raw or b"\x00" in raw:
        pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
        fields += sorted({name for name, value in pairs if "\x00" in name + value})
    return fields


def _nul_body(fields: list[str]) -> bytes:
    detail = "；".join(f"{field}: {NUL_REASON}" for field in fields)
    problems = [{"field": field, "reason": NUL_REASON} for field in fields]
    return json.dumps(
        {"error": "validation_failed", "detail": detail, "fields": problems}, ensure_ascii=False
    ).encode()


class PlatformMiddleware:
    """Gives every request an id (echoed in ``X-Request-ID``) and an access context,
    refuses bodies over the limit with 413, and counts requests for /metrics."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_upload_bytes: int | None = None,
        upload_paths: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes or max_body_bytes
        self.upload_paths = upload_paths

    def _limit(self, scope: Scope) -> int:
        path = str(scope.get("path", ""))
        if self.upload_paths and path.startswith(self.upload_paths):
            return self.max_upload_bytes
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _VALID_ID.match(incoming) else secrets.token_hex(8)
        client = scope.get("client")
        token = context.begin(
            context.AccessContext(request_id=request_id, client_ip=client[0] if client else None)
        )
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 500, "started": False}
        try:
            with units.request_scope():
                await self._handle(scope, receive, send, request_id, state)
        finally:
            context.end(token)
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            REQUESTS.labels(method, path, str(state["status"])).inc()
            LATENCY.labels(method, path).observe(time.perf_counter() - started)

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, request_id: str, state: dict[str, Any]
    ) -> None:
        nul = _nul_fields(scope)
        if nul:
            await self._answer(send, request_id, state, 422, _nul_body(nul))
            return
        limit = self._limit(scope)
        declared = _header(scope, b"content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            await self._reject(send, request_id, state, limit)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"], state["started"] = message["status"], True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in BASELINE_HEADERS if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        except BodyTooLarge:
            if state["started"]:
                raise
            await self._reject(send, request_id, state, limit)

    async def _reject(self, send: Send, request_id: str, state: dict[str, Any], limit: int) -> None:
        await self._answer(send, request_id, state, 413, _too_large_body(limit))

    async def _answer(
        self, send: Send, request_id: str, state: dict[str, Any], status: int, payload: bytes
    ) -> None:
        state["status"] = status
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"x-request-id", request_id.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
