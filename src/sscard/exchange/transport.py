"""HTTP client of the transport operator (交通一卡通): the card's transit function.

One-step activation asks the operator to enable the transit function of a card (the
operator lists the card as allowed on buses and the metro); compensation disables it. The
operator receives the card number and card identification code only, never who holds the
card. Calls carry an ``Idempotency-Key``.

The base URL is ``SSCARD_TRANSPORT_URL``; without it the platform has no transport partner
and activation skips the transport step. Outcomes as for the bank: 400/404/409/422 refuse
(:class:`TransportRefused`), anything else failing is :class:`TransportUnavailable`.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

from sscard.errors import SSCardError
from sscard.kit.masking import mask_text
from sscard.settings import get_settings

REFUSAL_STATUSES = frozenset({400, 404, 409, 422})


class TransportUnavailable(SSCardError):
    status_code = 503
    code = "transport_unavailable"


class TransportRefused(SSCardError):
    status_code = 502
    code = "transport_refused"


_lock = threading.Lock()
_clients: dict[float, httpx.Client] = {}


def _client() -> httpx.Client:
    timeout = get_settings().peer_timeout_seconds
    with _lock:
        client = _clients.get(timeout)
        if client is None:
            client = _clients[timeout] = httpx.Client(timeout=timeout)
        return client


def base_url() -> str | None:
    url = get_settings().transport_url
    return url.rstrip("/") if url else None


def configured() -> bool:
    return base_url() is not None


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    detail = body.get("detail") if isinstance(body, dict) else None
    return mask_text(str(detail or f"HTTP {response.status_code}"))[:200]


def _post(path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    url = base_url()
    if url is None:
        raise TransportUnavailable("未配置交通一卡通接口地址（SSCARD_TRANSPORT_URL）")
    try:
        response = _client().post(f"{url}{path}", json=body, headers={"Idempotency-Key": key})
    except httpx.HTTPError as exc:
        raise TransportUnavailable(
            f"交通一卡通系统暂时无法访问（{type(exc).__name__}），请稍后再试"
        ) from exc
    if response.status_code in REFUSAL_STATUSES:
        raise TransportRefused(f"交通一卡通拒绝办理：{_reason(response)}")
    if not response.is_success:
        raise TransportUnavailable(f"交通一卡通系统返回 HTTP {response.status_code}")
    answer = response.json()
    return answer if isinstance(answer, dict) else {}


def enable(*, card_number: str, card_id_code: str | None, key: str) -> None:
    """Enable the card's transit function."""
    _post("/transit/cards/enable", {"card_number": card_number, "card_id_code": card_id_code}, key)


def disable(*, card_number: str, key: str) -> None:
    """Disable the card's transit function (compensation, or the card was cancelled)."""
    _post("/transit/cards/disable", {"card_number": card_number}, key)
