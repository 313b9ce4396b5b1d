"""The medical insurance peer over HTTP: its rules replaced through the control endpoint,
settlements once per number, cancellations restoring the year and the personal account."""

from __future__ import annotations

import copy
from typing import Any

import httpx
from tests.integration.payments.medical_support import Peers, served
from tests.support import citizen_id

__all__ = ["served"]


def _bill(number: str, id_number: str, **extra: Any) -> dict[str, Any]:
    item = {"code": "T1", "name": "理疗", "item_class": "treatment", "amount_fen": 10000}
    return {
        "settlement_no": number,
        "id_number": id_number,
        "hospital_code": "H0001",
        "visit_kind": "outpatient",
        "items": [item],
        **extra,
    }


def test_a_settlement_number_settles_one_bill_once_and_a_cancel_gives_everything_back(
    served: Peers,
) -> None:
    person = citizen_id("370811")
    served.enrol(person, "employee", balance=5000)
    first = httpx.post(f"{served.medical}/medical/settlements", json=_bill("M1000000001", person))
    assert first.status_code == 201
    again = httpx.post(f"{served.medical}/medical/settlements", json=_bill("M1000000001", person))
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["settlement_id"] == first.json()["settlement_id"]
    other = _bill("M1000000001", person, visit_kind="inpatient")
    assert httpx.post(f"{served.medical}/medical/settlements", json=other).status_code == 409
    assert served.insured(person)["deductible_used_fen"] == 10000
    cancelled = httpx.post(f"{served.medical}/medical/settlements/M1000000001/cancel")
    assert cancelled.json()["status"] == "cancelled"
    after = served.insured(person)
    assert (after["deductible_used_fen"], after["personal_balance_fen"]) == (0, 5000)


def test_the_rules_are_replaced_through_the_control_endpoint_and_checked(served: Peers) -> None:
    person = citizen_id("370811")
    served.enrol(person, "resident")
    saved = httpx.get(f"{served.medical}/control/rules").json()
    try:
        rules = copy.deepcopy(saved)
        rules["types"]["resident"]["deductible_fen"] = 0
        rules["types"]["resident"]["ratios_bp"]["treatment"] = 5000
        assert httpx.put(f"{served.medical}/control/rules", json=rules).status_code == 200
        trial = httpx.post(f"{served.medical}/medical/presettle", json=_bill("T1000000001", person))
        assert (trial.json()["pool_fen"], trial.json()["cash_fen"]) == (5000, 5000)
        rules["types"]["resident"]["ratios_bp"]["treatment"] = 10001
        refused = httpx.put(f"{served.medical}/control/rules", json=rules)
        assert refused.status_code == 422 and "ratios_bp.treatment" in refused.json()["detail"]
    finally:
        httpx.put(f"{served.medical}/control/rules", json=saved)
    stranger = _bill("T1000000002", citizen_id("370812"))
    unknown = httpx.post(f"{served.medical}/medical/presettle", json=stranger)
    assert unknown.status_code == 404 and "未参保" in unknown.json()["detail"]
    short = httpx.post(f"{served.medical}/medical/presettle", json=_bill("T1", person))
    assert short.status_code == 422
