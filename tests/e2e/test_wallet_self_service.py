"""The wallet's self-service over HTTP: a refused login keeps the ID number typed, 亮证 shows
a signed credential anyone can check, the access log speaks plain words in Beijing time."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from tests.e2e.test_ecard_pages import (
    ECARD_PIN,
    HOLDER_NAME,
    active_holder,
    browser_client,
    code_on,
    console_as,
    csrf,
    qr_png,
    report_loss,
    verify_on_terminal,
    wallet_login,
    wallet_of,
)
from tests.support import Account, LiveServer


def credential_on(page_html: str) -> str:
    found = re.search(r'data-credential="(ECR[A-Z2-7]{141})"', page_html)
    assert found, "the page shows no credential"
    return found.group(1)


def test_a_refused_login_keeps_the_id_number_typed_but_never_the_pin(
    live_server: LiveServer,
) -> None:
    holder = active_holder()
    with browser_client(live_server) as http:
        refused = wallet_login(http, holder, pin="135792")
        assert refused.status_code == 401
        assert f'value="{holder.id_number}"' in refused.text
        assert "135792" not in refused.text
        http.get("/wallet/login")
        empty_pin = http.post(
            "/wallet/login",
            data={"csrf_token": csrf(http), "id_number": holder.id_number, "ecard_pin": ""},
        )
        assert empty_pin.status_code == 422
        assert f'value="{holder.id_number}"' in empty_pin.text


def test_the_credential_button_shows_a_signed_credential_with_its_beijing_expiry(
    live_server: LiveServer,
) -> None:
    holder = active_holder()
    with wallet_of(live_server, holder) as http:
        home = http.get("/wallet")
        assert 'id="credential-button"' in home.text
        refused = http.post("/wallet/credential", data={"csrf_token": "forged"})
        assert refused.status_code == 403
        shown = http.post("/wallet/credential", data={"csrf_token": csrf(http)})
        assert shown.status_code == 200, shown.text
        assert shown.headers["cache-control"] == "no-store"
        assert "<svg" in shown.text and "（北京时间）" in shown.text
        assert re.search(r'id="credential-expires">\d\d:\d\d:\d\d<', shown.text)
        assert holder.id_number not in shown.text
        credential = credential_on(shown.text)
        checked = http.post("/api/v1/ecard/credentials/verify", json={"credential": credential})
        assert checked.status_code == 200, checked.text
        assert checked.json()["valid"] is True
        report_loss(holder)
        after = http.post("/wallet/credential", data={"csrf_token": csrf(http)})
        assert after.status_code == 423
        assert 'id="wallet-refused"' in after.text
        assert 'id="credential-button"' not in http.get("/wallet").text


def test_the_access_log_names_who_what_and_why_in_beijing_time_without_my_own_logins(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    holder = active_holder()
    with wallet_of(live_server, holder) as wallet:
        with console_as(live_server, make_account("clerk")) as console:
            code = code_on(wallet.get("/wallet").text)
            assert verify_on_terminal(console, scenario="library", code=code).status_code == 200
        with browser_client(live_server) as again:
            assert wallet_login(again, holder).status_code == 303
        log = wallet.get("/wallet/access-log")
        assert log.status_code == 200
        assert "扫码核验电子社保卡" in log.text
        assert "北京时间" in log.text
        entries = log.text.split('id="access-log"')[1]
        assert "登录" not in entries and "系统" not in entries
        too_far = wallet.get("/wallet/access-log?page=99999999999999999999")
        assert too_far.status_code == 200


def test_family_from_the_wallet_add_an_elder_who_agrees_then_withdraws(
    live_server: LiveServer,
) -> None:
    guardian, elder = active_holder(), active_holder(born="19500301")
    with wallet_of(live_server, guardian) as mine, wallet_of(live_server, elder) as theirs:
        page = mine.get("/wallet/family-service")
        assert page.status_code == 200 and "还没有绑定家人" in page.text
        wrong = mine.post(
            "/wallet/family-service/add",
            data={
                "csrf_token": csrf(mine),
                "member_id_number": elder.id_number,
                "member_name": "别人",
            },
        )
        assert wrong.status_code == 422, wrong.text
        assert "证件号码与姓名不符" in wrong.text
        assert f'value="{elder.id_number}"' in wrong.text
        forged = mine.post(
            "/wallet/family-service/add",
            data={
                "csrf_token": "forged",
                "member_id_number": elder.id_number,
                "member_name": HOLDER_NAME,
            },
        )
        assert forged.status_code == 403
        added = mine.post(
            "/wallet/family-service/add",
            data={
                "csrf_token": csrf(mine),
                "member_id_number": elder.id_number,
                "member_name": HOLDER_NAME,
            },
        )
        assert added.status_code == 303
        listed = mine.get(added.headers["location"]).text
        assert "已添加" in listed and "等待对方同意" in listed
        assert elder.id_number not in listed
        binding = re.search(r'data-binding="(\d+)"', listed)
        assert binding
        number = binding.group(1)
        assert mine.get("/wallet/family").json()["members"] == []

        asked = theirs.get("/wallet/family-service").text
        assert "想代您出示电子社保卡" in asked and "同意" in asked
        not_mine = mine.post(
            f"/wallet/family-service/{number}/consent", data={"csrf_token": csrf(mine)}
        )
        assert not_mine.status_code == 404
        agreed = theirs.post(
            f"/wallet/family-service/{number}/consent", data={"csrf_token": csrf(theirs)}
        )
        assert agreed.status_code == 303
        assert "撤回同意" in theirs.get("/wallet/family-service").text
        assert "暂不能代为出示" not in mine.get("/wallet/family-service").text
        assert [m["id"] for m in mine.get("/wallet/family").json()["members"]] == [int(number)]

        withdrawn = theirs.post(
            f"/wallet/family-service/{number}/refuse", data={"csrf_token": csrf(theirs)}
        )
        assert withdrawn.status_code == 303
        assert mine.get("/wallet/family").json()["members"] == []
        assert "还没有绑定家人" in mine.get("/wallet/family-service").text
        huge = mine.post(
            "/wallet/family-service/99999999999999999999999/end", data={"csrf_token": csrf(mine)}
        )
        assert huge.status_code == 404


def test_a_guardian_sees_why_a_members_code_cannot_be_shown_and_ends_the_binding(
    live_server: LiveServer,
) -> None:
    guardian, minor = active_holder(), active_holder(born="20160301")
    with wallet_of(live_server, guardian) as mine:
        added = mine.post(
            "/wallet/family-service/add",
            data={
                "csrf_token": csrf(mine),
                "member_id_number": minor.id_number,
                "member_name": HOLDER_NAME,
            },
        )
        assert added.status_code == 303
        assert "暂不能代为出示" not in mine.get("/wallet/family-service").text
        report_loss(minor)
        listed = mine.get("/wallet/family-service").text
        assert "暂不能代为出示：对方的社会保障卡已挂失" in listed
        number = re.search(r'data-binding="(\d+)"', listed)
        assert number
        ended = mine.post(
            f"/wallet/family-service/{number.group(1)}/end", data={"csrf_token": csrf(mine)}
        )
        assert ended.status_code == 303
        assert "还没有绑定家人" in mine.get("/wallet/family-service").text


def test_elder_mode_is_switched_with_the_csrf_token_and_remembered(
    live_server: LiveServer,
) -> None:
    holder = active_holder(born="19500301")
    with wallet_of(live_server, holder) as http:
        assert 'class="wallet-body"' in http.get("/wallet").text
        forged = http.post("/wallet/mode", data={"csrf_token": "forged", "mode": "elder"})
        assert forged.status_code == 403
        switched = http.post(
            "/wallet/mode",
            data={"csrf_token": csrf(http), "mode": "elder", "back": "/wallet/insurance"},
        )
        assert switched.status_code == 303
        assert switched.headers["location"] == "/wallet/insurance"
        cookie = switched.headers["set-cookie"]
        assert "sscard_wallet_mode=elder" in cookie and "Max-Age=31536000" in cookie
        home = http.get("/wallet").text
        assert 'class="wallet-body elder"' in home
        assert 'id="family-help"' in home and "还没有家人帮您" in home
        assert 'id="menu-access"' not in home
        assert "切换到标准版" in home
        assert 'class="wallet-body elder"' in http.get("/wallet/login").text
        away = http.post(
            "/wallet/mode",
            data={"csrf_token": csrf(http), "mode": "standard", "back": "https://evil.example/"},
        )
        assert away.headers["location"] == "/wallet"
        assert 'class="wallet-body"' in http.get("/wallet").text


def portal_ticket(http: httpx.Client) -> str:
    """The login QR text the demo portal shows (its cookie stays in ``http``)."""
    page = http.get("/portal-demo")
    found = re.search(r'data-qr="(ELT[A-Z0-9]{26})"', page.text)
    assert found, page.text[:300]
    return found.group(1)


def test_a_portals_login_qr_uploaded_in_the_wallet_is_confirmed_and_the_portal_learns_who(
    live_server: LiveServer,
) -> None:
    holder = active_holder()
    with wallet_of(live_server, holder) as wallet, browser_client(live_server) as portal:
        qr_text = portal_ticket(portal)
        assert wallet.get("/wallet/scan").status_code == 200
        forged = wallet.post("/wallet/scan", data={"csrf_token": "forged", "text": qr_text})
        assert forged.status_code == 403
        shown = wallet.post(
            "/wallet/scan",
            data={"csrf_token": csrf(wallet)},
            files={"image": ("qr.png", qr_png(qr_text), "image/png")},
        )
        assert shown.status_code == 200, shown.text
        assert "政务服务网（演示）" in shown.text and "（北京时间）" in shown.text
        ticket = qr_text[3:]
        confirmed = wallet.post(f"/wallet/scan/{ticket}/confirm", data={"csrf_token": csrf(wallet)})
        assert confirmed.status_code == 200, confirmed.text
        assert 'id="scan-confirmed"' in confirmed.text
        status = portal.get("/portal-demo/status?wait=0").json()
        assert status["status"] == "confirmed" and status["name_masked"] == "测***"
        again = wallet.post(f"/wallet/scan/{ticket}/confirm", data={"csrf_token": csrf(wallet)})
        assert again.status_code == 409


def test_the_scan_screen_names_what_is_not_a_login_qr_and_a_cancel_tells_the_portal(
    live_server: LiveServer,
) -> None:
    holder = active_holder()
    with wallet_of(live_server, holder) as wallet, browser_client(live_server) as portal:
        token = csrf(wallet)
        empty = wallet.post("/wallet/scan", data={"csrf_token": token})
        assert empty.status_code == 422 and "请用摄像头扫码" in empty.text
        merchant = wallet.post(
            "/wallet/scan", data={"csrf_token": token, "text": "https://qr.95516.com/00010000/x"}
        )
        assert merchant.status_code == 422 and "商户收款码" in merchant.text
        ecard = code_on(wallet.get("/wallet").text)
        own = wallet.post("/wallet/scan", data={"csrf_token": token, "text": ecard})
        assert own.status_code == 422 and "受理终端扫码核验" in own.text
        blank = wallet.post(
            "/wallet/scan",
            data={"csrf_token": token},
            files={"image": ("blank.png", b"not an image", "image/png")},
        )
        assert blank.status_code == 422 and "无法识别的图片" in blank.text
        unknown = wallet.post("/wallet/scan", data={"csrf_token": token, "text": "ELT" + "A" * 26})
        assert unknown.status_code == 404
        qr_text = portal_ticket(portal)
        cancelled = wallet.post(f"/wallet/scan/{qr_text[3:]}/refuse", data={"csrf_token": token})
        assert cancelled.status_code == 200 and 'id="scan-refused"' in cancelled.text
        assert portal.get("/portal-demo/status?wait=0").json()["status"] == "refused"
        long_id = wallet.post(f"/wallet/scan/{'A' * 40}/confirm", data={"csrf_token": token})
        assert long_id.status_code == 404
        decoded = wallet.post(
            "/wallet/scan/decode",
            files={"image": ("f.png", qr_png(qr_text), "image/png")},
            headers={"X-CSRF-Token": token},
        )
        assert decoded.json() == {"found": True, "text": qr_text}


def test_my_card_online_temporary_loss_then_unlock_with_the_ecard_pin(
    live_server: LiveServer,
) -> None:
    holder = active_holder()
    with wallet_of(live_server, holder) as http:
        page = http.get("/wallet/card")
        assert page.status_code == 200
        assert 'data-status="active"' in page.text and "已启用" in page.text
        assert page.text.count('class="done') == 8
        assert 'id="loss-form"' in page.text and 'id="unlock-form"' not in page.text
        assert holder.card_number not in page.text
        token = csrf(http)
        assert (
            http.post(
                "/wallet/card/loss", data={"csrf_token": "forged", "confirm": "yes"}
            ).status_code
            == 403
        )
        unconfirmed = http.post("/wallet/card/loss", data={"csrf_token": token})
        assert unconfirmed.status_code == 422 and "我确认临时挂失" in unconfirmed.text
        lost = http.post("/wallet/card/loss", data={"csrf_token": token, "confirm": "yes"})
        assert lost.status_code == 303
        page = http.get(lost.headers["location"]).text
        assert "已临时挂失" in page and 'data-status="temporarily_lost"' in page
        assert "（北京时间）临时挂失" in page
        assert "电子社保卡已暂停使用" in http.get("/wallet").text
        again = http.post("/wallet/card/loss", data={"csrf_token": token, "confirm": "yes"})
        assert again.status_code == 409
        wrong = http.post("/wallet/card/unlock", data={"csrf_token": token, "ecard_pin": "135792"})
        assert wrong.status_code == 401 and "电子社保卡密码错误" in wrong.text
        assert 'data-status="temporarily_lost"' in wrong.text
        empty = http.post("/wallet/card/unlock", data={"csrf_token": token, "ecard_pin": ""})
        assert empty.status_code == 422
        unlocked = http.post(
            "/wallet/card/unlock", data={"csrf_token": token, "ecard_pin": ECARD_PIN}
        )
        assert unlocked.status_code == 303
        assert 'data-status="active"' in http.get("/wallet/card").text
        assert "data-code" in http.get("/wallet").text
