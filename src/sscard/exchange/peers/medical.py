"""HTTP client of the medical insurance system (医保): settlement of medical bills.

The platform asks the medical insurance system how a bill splits into the pooled fund
(统筹基金), the personal account (个人账户) and cash (个人现金), settles it under the
platform's settlement number (the system answers a repeated number with its first answer),
cancels a settlement on a refund, and registers chronic-disease qualifications (门诊慢特病)
the city's clerks approved. The insured person is named by the ID number in the body,
never in a URL.

The base URL is ``SSCARD_MEDICAL_URL``. Outcomes as for every peer: 400/404/409/422 refuse
(``PeerRefused``, ``medical_refused``, 502); anything else failing is ``PeerUnavailable``
(``medical_unavailable``, 503). Reads are retried by the client; settling and cancelling
are sent once (both are idempotent by the settlement number).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sscard.exchange.peers import client
from sscard.exchange.peers.config import Peer, peer
from sscard.settings import get_settings


@dataclass(frozen=True, slots=True)
class BillItem:
    code: str
    name: str
    item_class: str
    amount_fen: int
    disease_code: str | None = None


@dataclass(frozen=True, slots=True)
class Bill:
    settlement_no: str
    id_number: str
    hospital_code: str
    visit_kind: str
    offsite: bool
    visit_date: date
    items: tuple[BillItem, ...]


@dataclass(frozen=True, slots=True)
class Split:
    """The system's answer to a bill: the three parts and the split of each item."""

    settlement_no: str
    settlement_id: str | None
    status: str
    insurance_type: str
    total_fen: int
    pool_fen: int
    personal_fen: int
    cash_fen: int
    deductible_fen: int
    personal_balance_before_fen: int
    items: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Insured:
    insurance_type: str
    insurance_type_name: str
    personal_balance_fen: int
    deductible_used_fen: int
    pool_used_fen: int


def base_url() -> str | None:
    url = get_settings().medical_url
    return url.rstrip("/") if url else None


def configured() -> bool:
    return base_url() is not None


def _peer() -> Peer:
    return peer("medical", "医保系统", base_url())


def _bill_body(bill: Bill) -> dict[str, Any]:
    return {
        "settlement_no": bill.settlement_no,
        "id_number": bill.id_number,
        "hospital_code": bill.hospital_code,
        "visit_kind": bill.visit_kind,
        "offsite": bill.offsite,
        "visit_date": bill.visit_date.isoformat(),
        "items": [
            {
                "code": i.code,
                "name": i.name,
                "item_class": i.item_class,
                "amount_fen": i.amount_fen,
                "disease_code": i.disease_code,
            }
            for i in bill.items
        ],
    }


def _split(body: dict[str, Any]) -> Split:
    return Split(
        settlement_no=str(body["settlement_no"]),
        settlement_id=body.get("settlement_id"),
        status=str(body.get("status", "")),
        insurance_type=str(body["insurance_type"]),
        total_fen=int(body["total_fen"]),
        pool_fen=int(body["pool_fen"]),
        personal_fen=int(body["personal_fen"]),
        cash_fen=int(body["cash_fen"]),
        deductible_fen=int(body.get("deductible_fen", 0)),
        personal_balance_before_fen=int(body.get("personal_balance_before_fen", 0)),
        items=list(body.get("items") or []),
    )


def presettle(bill: Bill) -> Split:
    """How the bill would split now (试算); the system keeps nothing."""
    return _split(
        client.call(_peer(), "POST", "/medical/presettle", json=_bill_body(bill), retry=True)
    )


def settle(bill: Bill) -> Split:
    """Settle the bill under its settlement number (again: the first answer)."""
    body = _bill_body(bill)
    return _split(
        client.call(_peer(), "POST", "/medical/settlements", json=body, key=bill.settlement_no)
    )


def cancel(settlement_no: str) -> Split:
    """Cancel a settlement (退费); cancelling twice answers the same."""
    path = f"/medical/settlements/{settlement_no}/cancel"
    return _split(client.call(_peer(), "POST", path, key=f"cancel:{settlement_no}"))


def settlement(settlement_no: str) -> Split:
    """A settlement as the system holds it."""
    return _split(client.call(_peer(), "GET", f"/medical/settlements/{settlement_no}", retry=True))


def insured(id_number: str) -> Insured:
    """The person's insurance type, personal account balance and use of this year."""
    body = client.call(
        _peer(), "POST", "/medical/persons/query", json={"id_number": id_number}, retry=True
    )
    return Insured(
        insurance_type=str(body["insurance_type"]),
        insurance_type_name=str(body.get("insurance_type_name", "")),
        personal_balance_fen=int(body["personal_balance_fen"]),
        deductible_used_fen=int(body.get("deductible_used_fen", 0)),
        pool_used_fen=int(body.get("pool_used_fen", 0)),
    )


def register_chronic(
    *,
    id_number: str,
    qualification_no: str,
    disease_code: str,
    disease_name: str,
    valid_from: date,
    valid_to: date | None,
) -> None:
    """Tell the system a person is qualified for a chronic disease's higher ratio."""
    body = {
        "id_number": id_number,
        "qualification_no": qualification_no,
        "disease_code": disease_code,
        "disease_name": disease_name,
        "valid_from": valid_from.isoformat(),
        "valid_to": valid_to.isoformat() if valid_to else None,
    }
    client.call(_peer(), "POST", "/medical/chronic", json=body, key=f"chronic:{qualification_no}")


def revoke_chronic(*, id_number: str, qualification_no: str) -> None:
    """Withdraw a chronic-disease qualification."""
    body = {"id_number": id_number, "qualification_no": qualification_no}
    client.call(
        _peer(), "POST", "/medical/chronic/revoke", json=body, key=f"revoke:{qualification_no}"
    )
