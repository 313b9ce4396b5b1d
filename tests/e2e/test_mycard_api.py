"""My card business through the API with the e-card session token: the card with its
progress and enabling, formal loss, an instant card at a bank branch, a phone number change
by the old number's code."""

from __future__ import annotations

import httpx
from tests.e2e.test_ecard_pages import ECARD_PIN, Holder, active_holder, setting
from tests.e2e.test_wallet_phone import NEW_PHONE, code_in, phone_on_record, sms_to
from tests.support import LiveServer


def resident_client(server: LiveServer, holder: Holder) -> httpx.Client:
    opened = httpx.post(
        f"{server.url}/api/v1/ecard/sessions",
        json={
            "id_number": holder.id_number,
            "ecard_pin": ECARD_PIN,
            "channel_code": holder.channel,
        },
    )
    assert opened.status_code == 201, opened.text
    token = opened.json()["token"]
    return httpx.Client(
        base_url=f"{server.url}/api/v1/ecard/me",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def test_my_card_then_a_formal_loss_then_an_instant_card_through_the_api(
    live_server: LiveServer,
) -> None:
    holder, bank = active_holder(), setting().bank
    with resident_client(live_server, holder) as api:
        card = api.get("/card").json()
        assert card["status"] == "active" and card["can_report_formal_loss"] is True
        assert holder.card_number not in str(card)
        assert "跳过了银行账户激活" in card["enabling"]["bank_message"]
        unconfirmed = api.post("/card/formal-loss", json={"ecard_pin": ECARD_PIN, "confirm": False})
        assert unconfirmed.status_code == 422
        assert [f["field"] for f in unconfirmed.json()["fields"]] == ["confirm"]
        wrong = api.post("/card/formal-loss", json={"ecard_pin": "135792", "confirm": True})
        assert wrong.status_code == 401
        lost = api.post("/card/formal-loss", json={"ecard_pin": ECARD_PIN, "confirm": True})
        assert lost.status_code == 200, lost.text
        assert lost.json()["status"] == "lost" and lost.json()["can_apply_instant"] is True
        branches = api.get("/instant-branches").json()
        assert {"code": bank, "name": "测试合作银行"} in branches
        not_a_bank = api.post("/card/instant", json={"bank_code": "PLATFORM", "confirm": True})
        assert not_a_bank.status_code == 422
        assert [f["field"] for f in not_a_bank.json()["fields"]] == ["bank_code"]
        applied = api.post("/card/instant", json={"bank_code": bank, "confirm": True})
        assert applied.status_code == 200, applied.text
        body = applied.json()
        assert (body["status"], body["mode"], body["bank_code"]) == ("applied", "instant", bank)
        assert body["kind"] == "replacement"
        assert [s["name"] for s in body["steps"] if s["current"]] == ["已申请，待到网点制卡"]


def test_a_phone_change_through_the_api_needs_the_old_numbers_code(
    live_server: LiveServer,
) -> None:
    holder = active_holder()
    with resident_client(live_server, holder) as api:
        bad = api.post("/phone/code", json={"new_phone": "2"})
        assert bad.status_code == 422
        assert [f["field"] for f in bad.json()["fields"]] == ["new_phone"]
        sent = api.post("/phone/code", json={"new_phone": NEW_PHONE})
        assert sent.status_code == 200, sent.text
        assert sent.json()["sent_to"] == "138****0000"
        code = code_in(sms_to(holder)["text"])
        assert code not in sent.text
        changed = api.post("/phone", json={"new_phone": NEW_PHONE, "code": code})
        assert changed.status_code == 200, changed.text
        assert changed.json() == {"phone_masked": "139****1357"}
        assert phone_on_record(holder) == NEW_PHONE


def test_the_card_business_routes_need_a_resident_session(live_server: LiveServer) -> None:
    with httpx.Client(base_url=f"{live_server.url}/api/v1/ecard/me", timeout=30) as anonymous:
        assert anonymous.get("/card").status_code == 401
        assert anonymous.post("/phone/code", json={"new_phone": NEW_PHONE}).status_code == 401
