"""Changing my phone number in the wallet over HTTP: the one-time code goes to the OLD number
through the outbox (the platform has no SMS gateway of its own), a wrong or spent code is
refused beside its field, and the registry holds the new number afterwards."""

from __future__ import annotations

import re

import httpx
from tests.e2e.test_ecard_pages import SIGNER, Holder, active_holder, csrf, wallet_of
from tests.support import LiveServer

from sscard import db
from sscard.ecard import myphone
from sscard.kit import context, outbox
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.schemas import PersonUpdate

OLD_PHONE = "13853700000"
NEW_PHONE = "13964821357"


def sms_to(holder: Holder) -> dict[str, str]:
    """The newest text message waiting in the outbox for the holder's phone."""
    with db.transaction() as session:
        for message in outbox.list_messages(session, destination=myphone.SMS, limit=200):
            if message.payload["person_id"] == holder.person_id:
                return dict(message.payload)
    raise AssertionError("no text message for the holder")


def code_in(text: str) -> str:
    found = re.search(r"验证码 (\d{6})", text)
    assert found, text
    return found.group(1)


def phone_on_record(holder: Holder) -> str:
    with db.transaction() as session:
        person = registry_service.get_person_by_id(session, person_id=holder.person_id)
        return registry_service.current_record(session, person).phone or ""


def ask_code(http: httpx.Client, new_phone: str = NEW_PHONE) -> httpx.Response:
    return http.post("/wallet/phone/code", data={"csrf_token": csrf(http), "new_phone": new_phone})


def confirm(http: httpx.Client, code: str, new_phone: str = NEW_PHONE) -> httpx.Response:
    return http.post(
        "/wallet/phone", data={"csrf_token": csrf(http), "new_phone": new_phone, "code": code}
    )


def test_a_code_sent_to_the_old_number_changes_my_phone_once(live_server: LiveServer) -> None:
    holder = active_holder()
    with wallet_of(live_server, holder) as http:
        page = http.get("/wallet/phone").text
        assert "138****0000" in page and OLD_PHONE not in page
        assert 'id="at-counter"' in page and "社保服务窗口" in page
        bad = ask_code(http, "12345")
        assert bad.status_code == 422 and 'id="error-new_phone"' in bad.text
        assert 'value="12345"' in bad.text
        same = ask_code(http, OLD_PHONE)
        assert same.status_code == 422 and "与原号码相同" in same.text
        sent = ask_code(http)
        assert sent.status_code == 200, sent.text
        assert 'id="code-sent"' in sent.text and "138****0000" in sent.text
        assert "北京时间" in sent.text
        message = sms_to(holder)
        assert message["phone_masked"] == "138****0000"
        code = code_in(message["text"])
        assert code not in sent.text
        wrong_code = "000000" if code != "000000" else "111111"
        wrong = confirm(http, wrong_code)
        assert wrong.status_code == 422 and 'id="error-code"' in wrong.text
        assert phone_on_record(holder) == OLD_PHONE
        other_number = confirm(http, code, "13700000001")
        assert other_number.status_code == 422
        changed = confirm(http, code)
        assert changed.status_code == 303, changed.text
        page = http.get(changed.headers["location"]).text
        assert 'id="phone-done"' in page and "139****1357" in page
        assert phone_on_record(holder) == NEW_PHONE
        spent = confirm(http, code)
        assert spent.status_code == 422 and "新手机号码与原号码相同" in spent.text


def test_wrong_codes_count_even_though_refused_and_spend_the_code(
    live_server: LiveServer,
) -> None:
    holder = active_holder()
    with wallet_of(live_server, holder) as http:
        assert ask_code(http).status_code == 200
        code = code_in(sms_to(holder)["text"])
        wrong_code = "000000" if code != "000000" else "111111"
        for _ in range(myphone.MAX_ATTEMPTS):
            assert confirm(http, wrong_code).status_code == 422
        too_late = confirm(http, code)
        assert too_late.status_code == 422 and "验证码已失效" in too_late.text
        assert phone_on_record(holder) == OLD_PHONE


def test_without_a_number_on_record_the_wallet_sends_me_to_a_counter(
    live_server: LiveServer,
) -> None:
    holder = active_holder()
    with db.transaction() as session, context.acting(SIGNER):
        registry_service.update_person(
            session, id_number=holder.id_number, data=PersonUpdate(phone=""), actor=SIGNER
        )
    with wallet_of(live_server, holder) as http:
        page = http.get("/wallet/phone").text
        assert 'id="no-phone"' in page and "社保服务窗口" in page
        assert 'id="code-form"' not in page
        refused = ask_code(http)
        assert refused.status_code == 422 and "您没有预留手机号码" in refused.text
