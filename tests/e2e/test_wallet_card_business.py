"""The wallet's card business over HTTP: the card's enabling with its financial side, a
formal loss (confirmation and e-card PIN) and, after it, an instant replacement at a chosen
bank branch that the branch then picks up."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

import httpx
from tests.e2e.test_ecard_pages import ECARD_PIN, active_holder, csrf, setting, wallet_of
from tests.support import Account, LiveServer, login


def test_my_card_says_plainly_that_the_bank_side_was_skipped_without_a_bank_url(
    live_server: LiveServer,
) -> None:
    holder = active_holder()
    with wallet_of(live_server, holder) as http:
        page = http.get("/wallet/card").text
        assert 'id="card-enabling"' in page
        assert re.search(r'id="enabling-status">已启用<', page)
        bank = page.split('id="enabling-bank"')[1].split("</p>")[0]
        assert "金融功能尚未激活" in bank and "没有配置测试合作银行的接口地址" in bank
        assert "跳过了银行账户激活" in bank


def test_a_formal_loss_needs_the_confirmation_and_the_ecard_pin_and_points_to_a_replacement(
    live_server: LiveServer,
) -> None:
    holder = active_holder()
    with wallet_of(live_server, holder) as http:
        page = http.get("/wallet/card").text
        assert 'id="formal-form"' in page and "补换卡" in page
        token = csrf(http)
        forged = http.post(
            "/wallet/card/formal-loss",
            data={"csrf_token": "forged", "confirm": "yes", "ecard_pin": ECARD_PIN},
        )
        assert forged.status_code == 403
        unconfirmed = http.post(
            "/wallet/card/formal-loss", data={"csrf_token": token, "ecard_pin": ECARD_PIN}
        )
        assert unconfirmed.status_code == 422 and 'id="formal-error-confirm"' in unconfirmed.text
        no_pin = http.post("/wallet/card/formal-loss", data={"csrf_token": token, "confirm": "yes"})
        assert no_pin.status_code == 422 and 'id="formal-error-pin"' in no_pin.text
        wrong = http.post(
            "/wallet/card/formal-loss",
            data={"csrf_token": token, "confirm": "yes", "ecard_pin": "135792"},
        )
        assert wrong.status_code == 401 and "电子社保卡密码错误" in wrong.text
        assert 'data-status="active"' in wrong.text and "135792" not in wrong.text
        lost = http.post(
            "/wallet/card/formal-loss",
            data={"csrf_token": token, "confirm": "yes", "ecard_pin": ECARD_PIN},
        )
        assert lost.status_code == 303, lost.text
        page = http.get(lost.headers["location"]).text
        assert 'data-status="lost"' in page and "已正式挂失" in page
        assert "线上不能解除" in page and "补换卡" in page
        assert 'id="formal-form"' not in page and 'id="unlock-form"' not in page
        assert 'id="instant-form"' in page
        assert "电子社保卡已暂停使用" in http.get("/wallet").text


def test_after_a_formal_loss_an_instant_card_is_applied_for_at_a_chosen_bank_branch(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    holder, bank = active_holder(), setting().bank
    with wallet_of(live_server, holder) as http:
        token = csrf(http)
        too_early = http.post(
            "/wallet/card/instant", data={"csrf_token": token, "confirm": "yes", "bank_code": bank}
        )
        assert too_early.status_code == 409 and "正式挂失后才能" in too_early.text
        lost = http.post(
            "/wallet/card/formal-loss",
            data={"csrf_token": token, "confirm": "yes", "ecard_pin": ECARD_PIN},
        )
        assert lost.status_code == 303
        page = http.get("/wallet/card").text
        assert f'<option value="{bank}">测试合作银行</option>' in page
        unchosen = http.post(
            "/wallet/card/instant", data={"csrf_token": token, "confirm": "yes", "bank_code": ""}
        )
        assert unchosen.status_code == 422 and 'id="instant-error-bank"' in unchosen.text
        not_a_bank = http.post(
            "/wallet/card/instant",
            data={"csrf_token": token, "confirm": "yes", "bank_code": "PLATFORM"},
        )
        assert not_a_bank.status_code == 422
        unconfirmed = http.post(
            "/wallet/card/instant", data={"csrf_token": token, "bank_code": bank}
        )
        assert unconfirmed.status_code == 422 and 'id="instant-error-confirm"' in unconfirmed.text
        assert f'<option value="{bank}" selected>' in unconfirmed.text
        applied = http.post(
            "/wallet/card/instant", data={"csrf_token": token, "confirm": "yes", "bank_code": bank}
        )
        assert applied.status_code == 303, applied.text
        page = http.get(applied.headers["location"]).text
        assert "即时制卡申请已提交" in page and 'data-status="applied"' in page
        assert "请携带居民身份证到 <strong>测试合作银行</strong>" in page
        assert "已申请，待到网点制卡" in page
        assert 'id="instant-form"' not in page
    with httpx.Client(base_url=live_server.url, timeout=30) as branch:
        branch.headers["Authorization"] = "Bearer " + login(
            live_server, make_account("bank_agent", institution=bank)
        )
        opened = branch.post(
            "/api/v1/instant/accounts",
            json={"id_number": holder.id_number},
            headers={"Idempotency-Key": f"wallet-{secrets.token_hex(6)}"},
        )
        assert opened.status_code == 201, opened.text
        assert opened.json()["kind"] == "replacement"
        assert opened.json()["card_number"] != holder.card_number
