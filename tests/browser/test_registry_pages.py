"""Counter clerks use the registry pages through Chromium: register, find, reveal, employers."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from tests.conftest import needs_chromium
from tests.support import Account, LiveServer, login

from sscard.registry.photos import portraits

pytestmark = [needs_chromium, pytest.mark.browser]

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
rng = random.SystemRandom()


def citizen_id(region: str = "370811") -> tuple[str, date]:
    """A fresh, valid ID number of a man born on a random day (GB 11643 check character)."""
    born = date(rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28))
    first17 = f"{region}{born:%Y%m%d}{rng.randrange(1, 999, 2):03d}"
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11], born


def wrong_check(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


def credit_code(region: str = "370811") -> str:
    """A fresh, valid unified social credit code (GB 32100 with a GB 11714 body)."""
    body = f"{rng.randrange(10**8):08d}"
    org = 11 - sum(int(c) * w for c, w in zip(body, ORG_WEIGHTS, strict=True)) % 11
    first17 = f"91{region}{body}{ {10: 'X', 11: '0'}.get(org, str(org)) }"
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return first17 + CREDIT_ALPHABET[(31 - total % 31) % 31]


def log_in(page: Any, server: LiveServer, account: Account, path: str) -> None:
    page.goto(f"{server.url}{path}")
    page.fill("input[name=username]", account.username)
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}{path}")


def test_a_clerk_registers_a_person_fixes_the_id_number_and_reveals_it_with_a_purpose(
    page: Any, live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    clerk = make_account("clerk")
    number, born = citizen_id()
    phone = f"139{rng.randrange(10**8):08d}"
    log_in(page, live_server, clerk, "/registry/persons/new")

    page.select_option("#f-document_type", "01")
    page.fill("#f-id_number", wrong_check(number))
    page.fill("#f-name", "王小明")
    page.select_option("#f-gender", "1")
    page.fill("#f-birth_date", born.isoformat())
    page.fill("#f-phone", phone)
    page.fill("#f-address", "山东省济宁市任城区古槐路1号")
    page.fill("#f-household_region_code", "370811")
    page.fill("#f-residence_region_code", "370811")
    page.select_option("select[name='enrolments.0.status']", "enrolled")
    page.fill("input[name='enrolments.0.start_date']", "2015-07-01")
    page.click("#save-person")

    message = page.locator("#field-id_number .field-error")
    assert "校验位错误" in message.inner_text()
    assert page.locator("#f-id_number").get_attribute("aria-invalid") == "true"
    assert page.input_value("#f-id_number") == wrong_check(number)
    assert page.input_value("#f-name") == "王小明"
    assert page.input_value("#f-phone") == phone
    assert page.input_value("#f-residence_region_code") == "370811"
    assert page.input_value("select[name='enrolments.0.status']") == "enrolled"
    assert page.locator(".field-error").count() == 1

    page.fill("#f-id_number", number)
    page.click("#save-person")
    page.wait_for_url(re.compile(r".*/registry/persons/p/[0-9A-Z]{26}$"))
    person_id = page.url.rsplit("/", 1)[1]
    assert page.locator("#flash").inner_text() == "人员信息已登记"
    assert page.locator("#fact-id_number").inner_text() == number[:6] + "********" + number[-4:]
    assert page.locator("#fact-name").inner_text() == "王**"
    assert page.locator("#fact-phone").inner_text() == f"139****{phone[-4:]}"
    for secret in (number, "王小明", phone, "古槐路"):
        assert secret not in page.content()
    assert "企业职工基本养老保险" in page.locator("#enrolments").inner_text()

    page.fill("#f-purpose", "补换卡核验")
    with page.expect_response(lambda r: r.url.endswith("/reveal")) as answer:
        page.click("#reveal-button")
    assert answer.value.headers["cache-control"] == "no-store"
    assert page.locator("#fact-id_number").inner_text() == number
    assert page.locator("#fact-name").inner_text() == "王小明"
    assert "补换卡核验" in page.locator("#revealed-note").inner_text()

    page.click("text=恢复脱敏显示")
    assert page.locator("#fact-id_number").inner_text() != number

    auditor = login(live_server, make_account("auditor"))
    with live_server.client(auditor) as http:
        entries = http.get(
            "/api/v1/audit/entries", params={"subject_id": person_id, "action": "person.reveal"}
        ).json()["items"]
    assert [(e["actor_id"], e["purpose"]) for e in entries] == [(clerk.username, "补换卡核验")]
    assert number not in str(entries)


def test_an_employer_with_a_wrong_credit_code_is_refused_next_to_the_code(
    page: Any, live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    code = credit_code()
    name = f"济宁市测试{rng.randrange(10**6):06d}科技有限公司"
    log_in(page, live_server, make_account("clerk"), "/registry/employers/new")

    page.fill("#f-credit_code", code[:-1] + ("0" if code[-1] != "0" else "1"))
    page.fill("#f-name", name)
    page.fill("#f-region_code", "370811")
    page.click("#save-employer")
    assert "校验位错误" in page.locator("#field-credit_code .field-error").inner_text()
    assert page.input_value("#f-name") == name

    page.fill("#f-credit_code", code)
    page.click("#save-employer")
    page.wait_for_url(re.compile(r".*/registry/employers/\d+$"))
    assert page.locator("#flash").inner_text() == "单位已登记"
    assert name in page.locator("#employer-name").inner_text()
    assert page.locator("#employer-credit-code").inner_text() == code

    page.goto(f"{live_server.url}/registry/employers?name={name[5:11]}")
    assert name in page.locator("#employer-list").inner_text()


def test_a_clerk_finds_a_person_by_id_number_adds_a_photo_and_records_the_death(
    page: Any, live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    clerk = make_account("clerk")
    number, born = citizen_id()
    body = {
        "id_number": number,
        "name": "李四",
        "gender": "1",
        "birth_date": born.isoformat(),
        "household_region_code": "370811",
        "residence_region_code": "370811",
    }
    with live_server.client(login(live_server, clerk)) as http:
        assert http.post("/api/v1/persons", json=body).status_code == 201
    log_in(page, live_server, clerk, "/registry/persons")

    page.fill("#f-id_number", number)
    page.click("#search-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/registry/persons/p/[0-9A-Z]{26}$"))
    assert number not in page.url
    assert "未上传照片" in page.locator(".photo-card").inner_text()

    page.set_input_files(
        "#f-photo",
        files=[{"name": "a.png", "mimeType": "image/png", "buffer": b"\x89PNG not really"}],
    )
    page.click("#photo-form button[type=submit]")
    assert "不是图片" in page.locator("#field-photo .field-error").inner_text()
    portrait = portraits.demo_portrait(7, gender="1")
    page.set_input_files(
        "#f-photo", files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": portrait}]
    )
    page.click("#photo-form button[type=submit]")
    assert page.locator("#flash").inner_text() == "照片已保存"
    page.wait_for_function("() => document.getElementById('person-photo').naturalWidth > 0")
    assert page.evaluate("document.getElementById('person-photo').naturalWidth") == 358

    page.click("#death-link")
    assert "不能撤销" in page.locator("#death-confirm").inner_text()
    page.fill("#f-death_date", date(born.year - 1, 1, 1).isoformat())
    page.click("#confirm-death")
    assert page.locator("#field-death_date .field-error").count() == 1
    page.fill("#f-death_date", date.today().isoformat())
    page.click("#confirm-death")
    assert page.locator("#flash").inner_text() == "已登记死亡"
    assert "死亡" in page.locator("#person-facts").inner_text()
    assert page.locator("#death-link").count() == 0
