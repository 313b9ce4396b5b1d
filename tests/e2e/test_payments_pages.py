"""The merchant console over HTTP: sign-up form that keeps typed values, masking, Beijing
times, status actions, filters, region scope, permissions and CSRF."""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable

import httpx
from tests.e2e.test_registry_pages import csrf, pages_as
from tests.support import Account, LiveServer

from sscard import db
from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType
from sscard.iam.schemas import InstitutionCreate
from sscard.payments.codes import emv

ACCOUNT = "6217001234567890123"


def institution(region: str, kind: InstitutionType = InstitutionType.service_hall) -> str:
    code = f"PG{secrets.token_hex(3).upper()}"
    with db.transaction() as session:
        iam_service.create_institution(
            session,
            data=InstitutionCreate(code=code, name="商户测试机构", type=kind, region_code=region),
        )
    return code


def merchant_form(http: httpx.Client, institution_code: str, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": csrf(http),
        "code": f"M{secrets.token_hex(5).upper()}",
        "name": "仁和大药房任城店",
        "mcc": "5912",
        "institution_code": institution_code,
        "region_code": "",
        "settlement_bank": "中国工商银行济宁分行",
        "settlement_account": ACCOUNT,
        "fee_rate_bp": "38",
        **changes,
    }


def test_a_refused_sign_up_names_each_field_and_keeps_what_was_typed(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    place = institution("370811")
    with pages_as(live_server, make_account("clerk", institution=place)) as http:
        assert http.get("/payments/merchants/new").status_code == 200
        form = merchant_form(http, place, settlement_account="62170012ab", fee_rate_bp="20000")
        refused = http.post("/payments/merchants/new", data=form)
        assert refused.status_code == 422
        assert "有 2 处需要修改" in refused.text
        assert refused.text.count('aria-invalid="true"') == 2
        assert f'value="{form["code"]}"' in refused.text and 'value="62170012ab"' in refused.text
        assert 'value="20000"' in refused.text and "仁和大药房任城店" in refused.text
        listed = http.get("/payments/merchants", params={"name": "仁和"})
        assert form["code"] not in listed.text


def test_a_clerk_signs_up_a_merchant_sees_it_masked_in_beijing_time_and_suspends_it(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    place = institution("370811")
    with pages_as(live_server, make_account("clerk", institution=place)) as http:
        form = merchant_form(http, place)
        created = http.post("/payments/merchants/new", data=form)
        assert created.status_code == 303, created.text
        address = created.headers["location"]
        assert re.fullmatch(r"/payments/merchants/\d+", address)
        shown = http.get(address)
        assert "商户已登记" in shown.text and "621700*********0123" in shown.text
        assert ACCOUNT not in shown.text and "北京时间" in shown.text
        assert shown.headers["cache-control"] == "no-store"
        suspended = http.post(f"{address}/suspend", data={"csrf_token": csrf(http)})
        assert suspended.status_code == 303
        page = http.get(address).text
        assert "商户已暂停受理" in page and 'id="do-reopen"' in page and "do-suspend" not in page
        only_suspended = http.get("/payments/merchants", params={"status": "suspended"}).text
        assert form["code"] in only_suspended
        assert form["code"] not in http.get("/payments/merchants?status=active").text
        assert form["code"] in http.get("/payments/merchants").text  # all by default
        again = http.post(f"{address}/suspend", data={"csrf_token": csrf(http)})
        assert again.status_code == 409 and "不能暂停" in again.text
        changed = http.post(
            address,
            data={"csrf_token": csrf(http), "name": "仁和大药房", "mcc": "5912",
                  "settlement_bank": "济宁农村商业银行", "settlement_account": "",
                  "fee_rate_bp": "45", "region_code": ""},
        )  # fmt: skip
        assert changed.status_code == 303
        page = http.get(address).text
        assert "商户信息已修改" in page and "济宁农村商业银行" in page
        assert "621700*********0123" in page  # an empty account input keeps the stored one


def test_another_districts_clerk_finds_no_such_merchant_and_a_card_manager_may_not_sign_up(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    here, there = institution("370811"), institution("370812")
    with pages_as(live_server, make_account("clerk", institution=here)) as http:
        address = http.post("/payments/merchants/new", data=merchant_form(http, here)).headers[
            "location"
        ]
    with pages_as(live_server, make_account("clerk", institution=there)) as http:
        hidden = http.get(address)
        assert hidden.status_code == 404 and "本机构服务区域内的商户" in hidden.text
        for wrong in ("9223372036854775808", "abc", "0"):
            assert http.get(f"/payments/merchants/{wrong}").status_code == 404
        closed = http.post(f"{address}/close", data={"csrf_token": csrf(http)})
        assert closed.status_code == 404
    with pages_as(live_server, make_account("card_manager")) as http:
        refused = http.get("/payments/merchants/new")
        assert refused.status_code == 403 and "商户入网与管理" in refused.text


def test_a_form_posted_without_its_csrf_token_changes_nothing(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    place = institution("370811")
    with pages_as(live_server, make_account("admin")) as http:
        form = merchant_form(http, place, csrf_token="forged")
        refused = http.post("/payments/merchants/new", data=form)
        assert refused.status_code == 403 and "页面已过期" in refused.text
        assert form["code"] not in http.get("/payments/merchants").text


def test_a_terminal_is_linked_by_its_code_and_an_unknown_code_is_named_next_to_the_input(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    from tests.e2e.test_payments_api import terminal

    place = institution("370811")
    pos = terminal(place)
    with pages_as(live_server, make_account("clerk", institution=place)) as http:
        address = http.post("/payments/merchants/new", data=merchant_form(http, place)).headers[
            "location"
        ]
        unknown = http.post(
            f"{address}/terminals", data={"csrf_token": csrf(http), "terminal_code": "NOPOS1"}
        )
        assert unknown.status_code == 422 and "未登记" in unknown.text
        assert 'value="NOPOS1"' in unknown.text
        linked = http.post(
            f"{address}/terminals", data={"csrf_token": csrf(http), "terminal_code": pos}
        )
        assert linked.status_code == 303
        page = http.get(address).text
        assert "终端已关联" in page and pos in page and "门诊收费窗口" in page
        unlinked = http.post(f"{address}/terminals/{pos}/unlink", data={"csrf_token": csrf(http)})
        assert unlinked.status_code == 303
        assert "尚未关联受理终端" in http.get(address).text


def test_an_active_merchants_page_shows_its_collection_code_static_or_for_an_amount(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    place = institution("370811")
    with pages_as(live_server, make_account("clerk", institution=place)) as http:
        form = merchant_form(http, place)
        address = http.post("/payments/merchants/new", data=form).headers["location"]
        static = http.get(address)
        assert 'id="merchant-qr"' in static.text and "<svg" in static.text
        assert "付款人输入金额" in static.text
        dynamic = http.get(address, params={"amount": "12.30"})
        payload = re.search(r'data-payload="([^"]+)"', dynamic.text)
        assert payload is not None and "金额 12.30 元" in dynamic.text
        assert emv.parse(html.unescape(payload.group(1))).amount_fen == 1230
        refused = http.get(address, params={"amount": "12.345"})
        assert refused.status_code == 422 and 'value="12.345"' in refused.text
        assert "两位小数" in refused.text
        http.post(f"{address}/suspend", data={"csrf_token": csrf(http)})
        assert 'id="merchant-qr"' not in http.get(address).text
