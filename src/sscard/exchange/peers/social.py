"""HTTP client of the social insurance system (社会保险经办系统): contributions collected
by the platform are reported there, one per person and year.

The base URL is ``SSCARD_SOCIAL_URL``. Outcomes as for the other peers: 400/404/409/422
refuse (``PeerRefused``, code ``social_refused``), anything else failing is
``PeerUnavailable`` (``social_unavailable``). Reports carry an ``Idempotency-Key``.
"""

from __future__ import annotations

from typing import Any

from sscard.exchange.peers import client
from sscard.exchange.peers.config import peer
from sscard.settings import get_settings


def base_url() -> str | None:
    url = get_settings().social_url
    return url.rstrip("/") if url else None


def report_contribution(*, report: dict[str, Any], key: str) -> dict[str, Any]:
    """Record one paid contribution (``id_number``, ``year``, ``grade_fen``, ``amount_fen``,
    ``order_no``, ``paid_at``, ``region_code``)."""
    target = peer("social", "社会保险经办系统", base_url())
    return client.call(target, "POST", "/contributions", json=report, key=key)
