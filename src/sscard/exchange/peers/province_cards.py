"""HTTP client of the province card management centre (省卡管): the provincial card records.

The province keeps one record per card issued anywhere in the province (省持卡库): issuing
city, managing city, status, bank. The platform

- asks for the records of one person (个人省厅卡信息; the source of off-site cards, 异地卡);
- tells the province that a card's management moved to another city (地市卡转移);
- cancels a card's provincial record (注销省厅卡信息).

The provincial card database is keyed by the holder's citizen ID number (AAC002), so the
query and the notices carry it, together with the card number and card identification
code; the province is the authority that already holds them. Notices carry an
``Idempotency-Key``. Outcomes: 400/404/409/422 refuse (``PeerRefused``, code
``province_refused``), anything else failing is ``PeerUnavailable``
(``province_unavailable``). The base URL is ``SSCARD_PROVINCE_URL``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sscard.exchange.errors import PeerUnavailable
from sscard.exchange.peers import client
from sscard.exchange.peers.config import Peer, peer
from sscard.settings import get_settings

TITLE = "省卡管"


@dataclass(frozen=True, slots=True)
class ProvinceCard:
    """One card as the province records it."""

    card_number: str
    card_id_code: str
    name: str
    region_code: str
    managing_region_code: str
    status: str
    bank_code: str
    generation: int
    issue_date: date | None
    expiry_date: date | None


def base_url() -> str | None:
    url = get_settings().province_url
    return url.rstrip("/") if url else None


def _province() -> Peer:
    return peer("province", TITLE, base_url())


def _day(value: Any) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def _card(item: dict[str, Any]) -> ProvinceCard:
    return ProvinceCard(
        card_number=str(item["card_number"]),
        card_id_code=str(item["card_id_code"]),
        name=str(item.get("name", "")),
        region_code=str(item["region_code"]),
        managing_region_code=str(item.get("managing_region_code") or item["region_code"]),
        status=str(item["status"]),
        bank_code=str(item.get("bank_code", "")),
        generation=int(item.get("generation", 3)),
        issue_date=_day(item.get("issue_date")),
        expiry_date=_day(item.get("expiry_date")),
    )


def cards_of(*, id_number: str) -> list[ProvinceCard]:
    """Every card the province records for this person, in any city."""
    body = {"id_number": id_number}
    answer = client.call(_province(), "POST", "/province/cards/query", json=body, retry=True)
    try:
        return [_card(item) for item in answer.get("items", [])]
    except (KeyError, TypeError, ValueError) as exc:
        raise PeerUnavailable("province", "省卡管的查询应答格式不正确") from exc


def report_transfer(
    *,
    id_number: str,
    card_number: str,
    card_id_code: str | None,
    region_code: str,
    from_region_code: str,
    to_region_code: str,
    key: str,
) -> None:
    """Tell the province that the card is now managed by ``to_region_code`` (地市卡转移)."""
    body = {
        "id_number": id_number,
        "card_id_code": card_id_code,
        "region_code": region_code,
        "from_region_code": from_region_code,
        "to_region_code": to_region_code,
    }
    client.call(_province(), "POST", f"/province/cards/{card_number}/transfer", json=body, key=key)


def cancel_record(
    *,
    id_number: str,
    card_number: str,
    card_id_code: str | None,
    region_code: str,
    managing_region_code: str,
    reason: str,
    key: str,
) -> None:
    """Cancel the card's provincial record (注销省厅卡信息)."""
    body = {
        "id_number": id_number,
        "card_id_code": card_id_code,
        "region_code": region_code,
        "managing_region_code": managing_region_code,
        "reason": reason,
    }
    client.call(_province(), "POST", f"/province/cards/{card_number}/cancel", json=body, key=key)
