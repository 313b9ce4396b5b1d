"""The merchant API over real HTTP: sign-up, masked answers, named refusals, the status
table, terminals, region scope and permissions."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from tests.e2e.test_payments_pages import institution
from tests.support import Account, LiveServer, login

from sscard import db
from sscard.kit.context import SYSTEM, acting
from sscard.payments.codes import emv
from sscard.scenarios import service as scenarios
from sscard.scenarios.schemas import TerminalIn

ACCOUNT = "6217001234567890123"
BASE = "/api/v1/payments/merchants"


def merchant_body(institution_code: str, **changes: Any) -> dict[str, Any]:
    return {
        "code": f"M{secrets.token_hex(5).upper()}",
        "name": "济宁市第一人民医院",
        "mcc": "8062",
        "institution_code": institution_code,
        "settlement_bank": "中国工商银行济宁分行",
        "settlement_account": ACCOUNT,
        "fee_rate_bp": 0,
        **changes,
    }


def terminal(institution_code: str) -> str:
    code = f"POS{secrets.token_hex(4).upper()}"
    with acting(SYSTEM), db.transaction() as session:
        scenarios.ensure_default_scenarios(session)
        scenarios.register_terminal(
            session,
            data=TerminalIn(
                code=code, name="门诊收费窗口", institution_code=institution_code,
                scenario_code="library",
            ),
        )  # fmt: skip
    return code


def test_a_clerk_signs_up_a_merchant_links_a_terminal_and_closes_it(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    place = institution("370811")
    token = login(live_server, make_account("clerk", institution=place))
    with live_server.client(token) as http:
        body = merchant_body(place)
        created = http.post(BASE, json=body)
        assert created.status_code == 201, created.text
        merchant = created.json()
        assert merchant["settlement_account"] == "621700*********0123"
        assert ACCOUNT not in created.text
        assert (merchant["status"], merchant["mcc_name"], merchant["region_code"]) == (
            "active", "医院", "370811",
        )  # fmt: skip
        again = http.post(BASE, json=body)
        assert again.status_code == 409 and again.json()["error"] == "merchant_exists"

        pos = terminal(place)
        url = f"{BASE}/{merchant['id']}"
        linked = http.put(f"{url}/terminals/{pos}")
        assert linked.status_code == 200 and linked.json()["scenario_code"] == "library"
        assert [t["terminal_code"] for t in http.get(f"{url}/terminals").json()] == [pos]
        assert http.delete(f"{url}/terminals/{pos}").status_code == 204
        assert http.delete(f"{url}/terminals/{pos}").json()["error"] == "terminal_not_linked"

        qr = http.get(f"{url}/qr", params={"amount": "35.00", "bill_number": "MZ20261204"})
        assert qr.status_code == 200 and qr.json()["amount_fen"] == 3500
        assert emv.parse(qr.json()["payload"]).bill_number == "MZ20261204"
        bad = http.get(f"{url}/qr", params={"amount": "35.001"})
        assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "amount"

        changed = http.patch(url, json={"fee_rate_bp": 25, "name": "济宁一院"})
        assert changed.json()["fee_rate_bp"] == 25 and changed.json()["name"] == "济宁一院"
        assert http.post(f"{url}/close").json()["status"] == "closed"
        refused = http.post(f"{url}/suspend")
        assert refused.status_code == 409 and "已关闭" in refused.json()["detail"]
        listed = http.get(BASE, params={"status": "closed", "institution_code": place})
        assert [m["code"] for m in listed.json()] == [body["code"]]
        assert listed.headers["x-total-count"] == "1"
    with live_server.client(login(live_server, make_account("auditor"))) as http:
        entries = http.get("/api/v1/audit/entries", params={"subject_id": body["code"]}).json()
    actions = {e["action"] for e in entries["items"]}
    assert {"payments.merchant.create", "payments.merchant.close"} <= actions
    assert "payments.merchant.terminal.link" in actions
    assert ACCOUNT not in str(entries)


def test_bad_bodies_name_each_field_and_write_nothing(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    place = institution("370811")
    token = login(live_server, make_account("admin"))
    with live_server.client(token) as http:
        body = merchant_body(place, settlement_account="6217 0012", fee_rate_bp=10001, mcc="59")
        refused = http.post(BASE, json=body)
        assert refused.status_code == 422
        fields = {f["field"] for f in refused.json()["fields"]}
        assert fields == {"settlement_account", "fee_rate_bp", "mcc"}
        unknown = http.post(BASE, json=merchant_body("NOWHERE", mcc="0001"))
        assert unknown.status_code == 422
        assert {f["field"] for f in unknown.json()["fields"]} == {"mcc", "institution_code"}
        bad_status = http.get(BASE, params={"status": "open"})
        assert bad_status.status_code == 422 and bad_status.json()["fields"][0]["field"] == "status"
        listed = http.get(BASE, params={"institution_code": place})
        assert listed.json() == []


def test_another_districts_clerk_gets_404_and_a_bank_agent_403(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    here, there = institution("370811"), institution("370812")
    with live_server.client(login(live_server, make_account("clerk", institution=here))) as http:
        merchant = http.post(BASE, json=merchant_body(here)).json()
    outsider = login(live_server, make_account("clerk", institution=there))
    with live_server.client(outsider) as http:
        assert http.get(f"{BASE}/{merchant['id']}").status_code == 404
        assert http.post(f"{BASE}/{merchant['id']}/suspend").status_code == 404
        assert merchant["code"] not in http.get(BASE).text
        away = http.post(BASE, json=merchant_body(there, region_code="370811"))
        assert away.status_code == 422 and away.json()["fields"][0]["field"] == "region_code"
    bank = institution("370800")
    with live_server.client(
        login(live_server, make_account("bank_agent", institution=bank))
    ) as http:
        assert http.get(BASE).status_code == 403
