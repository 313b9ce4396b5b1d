"""Every kind of registry form, refused in Chromium, comes back with what the clerk typed and
the reason beside the field: person edit, community, reveal purpose, search, death date."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from tests.browser.test_registry_pages import citizen_id, log_in, rng
from tests.conftest import needs_chromium
from tests.support import Account, LiveServer, login

pytestmark = [needs_chromium, pytest.mark.browser]


def registered(server: LiveServer, clerk: Account) -> tuple[str, date]:
    """A person registered through the API: their ID number and birth date."""
    number, born = citizen_id()
    body = {
        "id_number": number,
        "name": "周五",
        "gender": "1",
        "birth_date": born.isoformat(),
        "household_region_code": "370811",
        "residence_region_code": "370811",
    }
    with server.client(login(server, clerk)) as http:
        assert http.post("/api/v1/persons", json=body).status_code == 201
    return number, born


def open_person(page: Any, number: str) -> str:
    page.fill("#f-id_number", number)
    page.click("#search-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/registry/persons/p/[0-9A-Z]{26}$"))
    return str(page.url)


def test_a_refused_edit_keeps_every_change_the_clerk_typed_with_the_reasons_beside_them(
    page: Any, live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    clerk = make_account("clerk")
    number, _ = registered(live_server, clerk)
    log_in(page, live_server, clerk, "/registry/persons")
    person_url = open_person(page, number)
    page.goto(f"{person_url}/edit")

    page.fill("#f-name", "周五六")
    page.fill("#f-phone", "123")
    page.fill("#f-address", "济宁市任城区建设路8号")
    page.fill("#f-residence_region_code", "999999")
    page.select_option("select[name='enrolments.1.status']", "enrolled")
    page.fill("input[name='enrolments.1.start_date']", "2020-01-01")
    page.click("#save-person")

    assert "11 位" in page.locator("#field-phone .field-error").inner_text()
    assert page.locator("#field-residence_region_code .field-error").count() == 1
    assert page.locator("#f-phone").get_attribute("aria-invalid") == "true"
    assert page.input_value("#f-name") == "周五六"
    assert page.input_value("#f-phone") == "123"
    assert page.input_value("#f-address") == "济宁市任城区建设路8号"
    assert page.input_value("#f-residence_region_code") == "999999"
    assert page.input_value("select[name='enrolments.1.status']") == "enrolled"
    assert page.input_value("input[name='enrolments.1.start_date']") == "2020-01-01"

    phone = f"138{rng.randrange(10**8):08d}"
    page.fill("#f-phone", phone)
    page.fill("#f-residence_region_code", "370811")
    page.click("#save-person")
    page.wait_for_url(person_url)
    assert page.locator("#flash").inner_text() == "人员信息已修改"
    assert page.locator("#fact-phone").inner_text() == f"138****{phone[-4:]}"


def test_a_refused_community_keeps_its_name_and_names_the_wrong_code(
    page: Any, live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    log_in(page, live_server, make_account("clerk"), "/registry/communities")
    name = f"测试{rng.randrange(10**4):04d}社区"
    page.fill("#f-code", "37081100")
    page.fill("#f-name", name)
    page.click("#save-community")
    assert "12 位数字" in page.locator("#field-code .field-error").inner_text()
    assert page.input_value("#f-code") == "37081100"
    assert page.input_value("#f-name") == name


def test_a_refused_reveal_keeps_the_purpose_typed_and_says_why(
    page: Any, live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    clerk = make_account("clerk")
    number, _ = registered(live_server, clerk)
    log_in(page, live_server, clerk, "/registry/persons")
    open_person(page, number)
    page.fill("#f-purpose", "查")
    page.click("#reveal-button")
    assert page.locator("#field-purpose .field-error").count() == 1
    assert page.input_value("#f-purpose") == "查"
    assert number not in page.content()


def test_a_search_by_name_without_a_birth_date_keeps_the_name_and_asks_for_the_date(
    page: Any, live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    log_in(page, live_server, make_account("clerk"), "/registry/persons?mode=name")
    page.fill("#f-name", "周五")
    page.click("#search-form button[type=submit]")
    assert "请填写出生日期" in page.locator("#field-birth_date .field-error").inner_text()
    assert page.input_value("#f-name") == "周五"
    assert page.locator("#f-birth_date").get_attribute("aria-invalid") == "true"


def test_a_refused_death_date_is_kept_beside_its_reason(
    page: Any, live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    clerk = make_account("clerk")
    number, born = registered(live_server, clerk)
    log_in(page, live_server, clerk, "/registry/persons")
    person_url = open_person(page, number)
    page.goto(f"{person_url}/death")
    before_birth = (born - timedelta(days=1)).isoformat()
    page.fill("#f-death_date", before_birth)
    page.click("#confirm-death")
    assert page.locator("#field-death_date .field-error").count() == 1
    assert page.input_value("#f-death_date") == before_birth
