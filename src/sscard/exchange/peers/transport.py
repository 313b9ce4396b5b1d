"""HTTP client of the transport operator (交通一卡通): the card's transit function.

One-step activation asks the operator to enable the transit function of a card (the
operator lists the card as allowed on buses and the metro); compensation disables it. The
operator receives the card number and card identification code only, never who holds the
card. Calls carry an ``Idempotency-Key``.

The base URL is ``SSCARD_TRANSPORT_URL``; without it the platform has no transport partner
and activation skips the transport step. Outcomes as for the bank: 400/404/409/422 refuse
(``PeerRefused``, code ``transport_refused``), anything else failing is
``PeerUnavailable`` (``transport_unavailable``).
"""

from __future__ import annotations

from typing import Any

from sscard.exchange.peers import client
from sscard.exchange.peers.config import peer
from sscard.settings import get_settings


def base_url() -> str | None:
    url = get_settings().transport_url
    return url.rstrip("/") if url else None


def configured() -> bool:
    return base_url() is not None


def _post(path: str, body: dict[str, Any], key: str) -> None:
    client.call(peer("transport", "交通一卡通", base_url()), "POST", path, json=body, key=key)


def enable(*, card_number: str, card_id_code: str | None, key: str) -> None:
    """Enable the card's transit function."""
    _post("/transit/cards/enable", {"card_number": card_number, "card_id_code": card_id_code}, key)


def disable(*, card_number: str, key: str) -> None:
    """Disable the card's transit function (compensation, or the card was cancelled)."""
    _post("/transit/cards/disable", {"card_number": card_number}, key)
