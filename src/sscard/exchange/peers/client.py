"""The one HTTP client of the peers (httpx), shared by every adapter.

Design overview
===============

An adapter describes its peer once (:func:`sscard.exchange.peers.config.peer`: name, how
messages call it, base URL, timeouts, retries, mutual TLS) and sends requests through
:func:`send` (or :func:`stream` for large downloads). What the answers mean is the same for
every peer:

- a connection error, a timeout or a status outside 2xx and the refusal table:
  :class:`~sscard.exchange.errors.PeerUnavailable` (503, ``<peer>_unavailable``), worth
  retrying later;
- a status in :data:`REFUSAL_STATUSES` (400, 404, 409, 422): the peer said no,
  :class:`~sscard.exchange.errors.PeerRefused` (502, ``<peer>_refused``) carrying the peer's
  own message (masked); retrying will not help.

Requests that change nothing (``retry=True``: queries, state, GET) are tried again, with a
doubling pause, after a connection error, a timeout or a 502/503/504, at most
``SSCARD_PEER_RETRIES`` times. Requests that change something are sent once: they travel
through the outbox, which retries them with its own backoff under the same
``Idempotency-Key``, so retrying here as well would only multiply the attempts.

Every request is logged on ``sscard.exchange.peers`` as one line: peer, method, path,
status (or the error), elapsed milliseconds. Never a body, a query string or a header; a
path segment that holds a digit (a card number, a batch number) is logged as ``*``.

Clients are pooled per timeout and TLS configuration (a handful at most; bounded).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from sscard.exchange.errors import PeerRefused, PeerUnavailable
from sscard.exchange.peers.config import Peer, PeerTLS, ssl_context
from sscard.kit.masking import mask_text

log = logging.getLogger("sscard.exchange.peers")

REFUSAL_STATUSES = frozenset({400, 404, 409, 422})
"""The peer answered and refused: do not retry."""
RETRY_STATUSES = frozenset({502, 503, 504})
"""The peer (or a proxy before it) is failing for now: a read may be tried again."""
MAX_CLIENTS = 16

_lock = threading.Lock()
_clients: OrderedDict[tuple[float, float, PeerTLS | None], httpx.Client] = OrderedDict()


def _client(peer: Peer) -> httpx.Client:
    key = (peer.connect_timeout, peer.read_timeout, peer.tls)
    with _lock:
        client = _clients.get(key)
        if client is None:
            timeout = httpx.Timeout(peer.read_timeout, connect=peer.connect_timeout)
            verify: Any = ssl_context(peer.tls, peer.name) if peer.tls is not None else True
            client = _clients[key] = httpx.Client(timeout=timeout, verify=verify)
            while len(_clients) > MAX_CLIENTS:
                _clients.popitem(last=False)
        else:
            _clients.move_to_end(key)
        return client


def _sep(title: str) -> str:
    """A space between a title ending in a Latin letter or digit and the Chinese that follows."""
    return " " if title[-1:].isascii() and title[-1:].isalnum() else ""


def shown_path(path: str) -> str:
    """The path as logged: every segment holding a digit (a card or batch number) as ``*``."""
    return "/".join("*" if any(ch.isdigit() for ch in part) else part for part in path.split("/"))


def _log(peer: Peer, method: str, path: str, outcome: str, started: float) -> None:
    elapsed = int((time.monotonic() - started) * 1000)
    log.info(
        "peer=%s method=%s path=%s status=%s elapsed_ms=%d",
        peer.label,
        method,
        shown_path(path),
        outcome,
        elapsed,
    )


def unavailable(peer: Peer, exc: httpx.HTTPError, what: str = "") -> PeerUnavailable:
    """The error for a request that failed before an answer came back."""
    where = what or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        text = f"{peer.title}{_sep(peer.title)}系统响应超时（{where}），请稍后再试"
    else:
        text = f"{peer.title}{_sep(peer.title)}系统暂时无法访问（{where}），请稍后再试"
    return PeerUnavailable(peer.name, text)


def send(
    peer: Peer,
    method: str,
    path: str,
    *,
    json: Any = None,
    content: Any = None,
    params: Mapping[str, str] | None = None,
    key: str | None = None,
    headers: Mapping[str, str] | None = None,
    retry: bool = False,
    read_timeout: float | None = None,
    what: str = "",
) -> httpx.Response:
    """Send one request (and, with ``retry``, try a read again); the peer's response, any
    status. ``key`` is sent as ``Idempotency-Key``; ``what`` names the call in messages."""
    extra = dict(headers or {})
    if key:
        extra["Idempotency-Key"] = key
    timeout = None
    if read_timeout is not None:
        timeout = httpx.Timeout(read_timeout, connect=peer.connect_timeout)
    attempts = 1 + (peer.retries if retry else 0)
    for attempt in range(attempts):
        last = attempt + 1 == attempts
        started = time.monotonic()
        try:
            response = _client(peer).request(
                method,
                f"{peer.base_url}{path}",
                json=json,
                content=content,
                params=params,
                headers=extra,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.HTTPError as exc:
            _log(peer, method, path, type(exc).__name__, started)
            if last:
                raise unavailable(peer, exc, what) from exc
        else:
            _log(peer, method, path, str(response.status_code), started)
            if last or response.status_code not in RETRY_STATUSES:
                return response
            response.close()
        time.sleep(peer.backoff * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def stream(
    peer: Peer,
    method: str,
    path: str,
    *,
    params: Mapping[str, str] | None = None,
    read_timeout: float | None = None,
    what: str = "",
) -> Iterator[httpx.Response]:
    """A streamed response (a large download), sent once; errors as for :func:`send`."""
    timeout = httpx.Timeout(read_timeout or peer.read_timeout, connect=peer.connect_timeout)
    started = time.monotonic()
    try:
        with _client(peer).stream(
            method, f"{peer.base_url}{path}", params=params, timeout=timeout
        ) as response:
            _log(peer, method, path, str(response.status_code), started)
            yield response
    except httpx.HTTPError as exc:
        _log(peer, method, path, type(exc).__name__, started)
        raise unavailable(peer, exc, what) from exc


def reason(response: httpx.Response) -> str:
    """The peer's own message (``detail``, else ``error``), masked and cut to 200 characters."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    text = None
    if isinstance(body, dict):
        text = body.get("detail") or body.get("error")
    return mask_text(str(text or f"HTTP {response.status_code}"))[:200]


def check(peer: Peer, response: httpx.Response) -> httpx.Response:
    """The response if it is a success; PeerRefused or PeerUnavailable otherwise."""
    if response.status_code in REFUSAL_STATUSES:
        why = reason(response)
        text = f"{peer.title}{_sep(peer.title)}拒绝办理：{why}"
        raise PeerRefused(peer.name, text, reason=why)
    if not response.is_success:
        text = f"{peer.title}{_sep(peer.title)}系统返回 HTTP {response.status_code}"
        raise PeerUnavailable(peer.name, text)
    return response


def answer(peer: Peer, response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a successful response (``{}`` for anything else that is JSON)."""
    check(peer, response)
    try:
        body = response.json()
    except ValueError as exc:
        raise PeerUnavailable(peer.name, f"{peer.title}的应答不是 JSON") from exc
    return body if isinstance(body, dict) else {}


def call(
    peer: Peer,
    method: str,
    path: str,
    *,
    json: Any = None,
    key: str | None = None,
    retry: bool = False,
) -> dict[str, Any]:
    """:func:`send` then :func:`answer`: the JSON answer of a call that must succeed."""
    return answer(peer, send(peer, method, path, json=json, key=key, retry=retry))
