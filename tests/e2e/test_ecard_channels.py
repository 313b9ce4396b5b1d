"""Adding a channel to an existing e-card over HTTP: the e-card PIN belongs to the e-card,
so neither the API nor the counter page asks for a new one, and the holder's PIN still
opens the e-card in both channels. The counter page keeps what the clerk chose after a
refusal and shows each reason beside its field."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import cache

import httpx
from tests.e2e.test_ecard_pages import (
    CARD_PIN,
    ECARD_PIN,
    HOLDER_NAME,
    SIGNER,
    Holder,
    active_holder,
    browser_client,
    console_as,
    csrf,
    wallet_login,
)
from tests.support import Account, LiveServer, login

from sscard import db
from sscard.iam import service as iam_service
from sscard.iam.catalog import ChannelType
from sscard.iam.schemas import ChannelCreate
from sscard.kit import context


@cache
def _second_channel(database: str) -> str:
    code = f"MW{secrets.token_hex(3).upper()}"
    with db.transaction() as session, context.acting(SIGNER):
        owner = iam_service.ensure_platform_institution(session).code
        iam_service.create_channel(
            session,
            data=ChannelCreate(
                code=code,
                name="测试小程序",
                type=ChannelType.mini_program,
                owner_institution_code=owner,
            ),
        )
    return code


def second_channel() -> str:
    """A mini-program channel beside the test HRSS app (once per database)."""
    return _second_channel(str(db.get_engine().url))


def sign_body(holder: Holder, channel: str, **extra: object) -> dict[str, object]:
    return {
        "id_number": holder.id_number,
        "name": HOLDER_NAME,
        "card_number": holder.card_number,
        "card_pin": CARD_PIN,
        "channel_code": channel,
        "real_person": {"method": "counter"},
        **extra,
    }


def opens_in(server: LiveServer, holder: Holder, channel: str, pin: str = ECARD_PIN) -> int:
    answer = httpx.post(
        f"{server.url}/api/v1/ecard/sessions",
        json={"id_number": holder.id_number, "ecard_pin": pin, "channel_code": channel},
    )
    return answer.status_code


def test_the_sign_api_adds_a_channel_without_a_pin_and_the_first_pin_opens_both(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    holder, channel = active_holder(), second_channel()
    token = login(live_server, make_account("clerk"))
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        http.headers["Authorization"] = f"Bearer {token}"
        added = http.post("/api/v1/ecard/sign", json=sign_body(holder, channel))
        assert added.status_code == 201, added.text
        assert {c["channel_code"] for c in added.json()["copies"]} == {holder.channel, channel}
        again = http.post(
            "/api/v1/ecard/sign", json=sign_body(holder, holder.channel, ecard_pin="975318")
        )
        assert again.status_code == 201, again.text
    assert opens_in(live_server, holder, channel) == 201
    assert opens_in(live_server, holder, holder.channel) == 201
    assert opens_in(live_server, holder, channel, pin="975318") == 401


def test_a_first_signing_without_an_ecard_pin_is_refused_naming_the_pin(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    holder = active_holder(signed=False)
    token = login(live_server, make_account("clerk"))
    headers = {"Authorization": f"Bearer {token}"}
    refused = httpx.post(
        f"{live_server.url}/api/v1/ecard/sign",
        json=sign_body(holder, holder.channel),
        headers=headers,
    )
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert [f["field"] for f in body["fields"]] == ["ecard_pin"]
    assert "设置电子社保卡密码" in body["detail"]
    assert opens_in(live_server, holder, holder.channel) == 401


def test_the_openapi_says_the_ecard_pin_is_needed_only_at_the_first_signing(
    live_server: LiveServer,
) -> None:
    schema = httpx.get(f"{live_server.url}/api/openapi.json").json()
    sign_in = schema["components"]["schemas"]["SignIn"]
    assert "ecard_pin" not in sign_in["required"]
    assert "first signing" in sign_in["properties"]["ecard_pin"]["description"]


def counter_form(http: httpx.Client, holder: Holder, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": csrf(http),
        "card_id": holder.card_id,
        "name": HOLDER_NAME,
        "id_number": holder.id_number,
        "card_pin": CARD_PIN,
        "real_person": "confirmed",
        **changes,
    }


def test_the_counter_adds_a_channel_without_asking_a_pin_and_the_old_pin_still_works(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    holder, channel = active_holder(), second_channel()
    with console_as(live_server, make_account("clerk")) as http:
        found = http.post(
            "/ecard/counter/find",
            data={"csrf_token": csrf(http), "card_number": holder.card_number},
        )
        assert found.status_code == 200
        assert 'id="has-ecard"' in found.text and "无需重新设置电子社保卡密码" in found.text
        assert 'name="ecard_pin"' not in found.text
        signed = http.post("/ecard/counter/sign", data=counter_form(http, holder, channel=channel))
        assert signed.status_code == 200, signed.text
        assert "电子社保卡已签发" in signed.text
        assert channel in signed.text and holder.channel in signed.text
    with browser_client(live_server) as phone:
        assert wallet_login(phone, holder).status_code == 303
    assert opens_in(live_server, holder, channel) == 201


def test_a_refused_counter_signing_keeps_the_choices_and_puts_each_reason_beside_its_field(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    holder = active_holder(signed=False)
    with console_as(live_server, make_account("clerk")) as http:
        unknown = http.post(
            "/ecard/counter/find", data={"csrf_token": csrf(http), "card_number": "ZZ0000000"}
        )
        assert unknown.status_code == 404
        assert 'value="ZZ0000000"' in unknown.text
        assert 'id="error-card_number"' in unknown.text
        form = counter_form(
            http, holder, channel=holder.channel, ecard_pin="975318", ecard_pin_confirm="975310"
        )
        mismatch = http.post("/ecard/counter/sign", data=form)
        assert mismatch.status_code == 422
        assert 'id="error-ecard_pin_confirm"' in mismatch.text
        assert f'value="{holder.channel}" selected' in mismatch.text
        assert 'value="confirmed" checked' in mismatch.text
        assert 'id="sign-form"' in mismatch.text and holder.card_id in mismatch.text
        assert "975318" not in mismatch.text and CARD_PIN not in mismatch.text
        wrong_pin = http.post(
            "/ecard/counter/sign",
            data={**form, "card_pin": "000001", "ecard_pin_confirm": "975318"},
        )
        assert wrong_pin.status_code == 422
        assert 'id="error-card_pin"' in wrong_pin.text
        assert f'value="{holder.channel}" selected' in wrong_pin.text
        no_channel = http.post(
            "/ecard/counter/sign", data={**form, "channel": "NOPE", "ecard_pin_confirm": "975318"}
        )
        assert no_channel.status_code == 404
        assert 'id="error-channel"' in no_channel.text
        simple = http.post(
            "/ecard/counter/sign",
            data={**form, "ecard_pin": "111111", "ecard_pin_confirm": "111111"},
        )
        assert simple.status_code == 422
        assert 'id="error-ecard_pin"' in simple.text and "111111" not in simple.text
