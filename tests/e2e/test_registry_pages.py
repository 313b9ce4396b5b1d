"""The registry pages over HTTP: logins, CSRF, permissions, masking, caching and conflicts."""

from __future__ import annotations

import io
import random
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

import httpx
from PIL import Image
from tests.support import Account, LiveServer, login

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
rng = random.SystemRandom()


def citizen_id(region: str = "370811") -> tuple[str, date]:
    """A fresh, valid ID number of a woman born on a random day (GB 11643 check character)."""
    born = date(rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28))
    first17 = f"{region}{born:%Y%m%d}{rng.randrange(0, 998, 2):03d}"
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11], born


def mobile() -> str:
    """A fresh mobile number (the test database is shared by the whole session)."""
    return f"137{rng.randrange(10**8):08d}"


def person_form(number: str, born: date, **changes: str) -> dict[str, str]:
    """The registration form as a browser posts it."""
    return {
        "document_type": "01",
        "id_number": number,
        "name": "赵敏",
        "gender": "2",
        "ethnicity": "01",
        "birth_date": born.isoformat(),
        "nationality": "CHN",
        "phone": mobile(),
        "address": "山东省济宁市任城区共青团路2号",
        "household_region_code": "370811",
        "residence_region_code": "370811",
        "employer_id": "",
        "community_code": "",
        **changes,
    }


@contextmanager
def pages_as(server: LiveServer, account: Account) -> Iterator[httpx.Client]:
    """A browser-like client logged in through the login form (session and CSRF cookies)."""
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as http:
        http.get("/login")
        answer = http.post(
            "/login",
            data={
                "username": account.username,
                "password": account.password,
                "csrf_token": http.cookies["sscard_csrf"],
            },
        )
        assert answer.status_code == 303, answer.text
        yield http


def csrf(http: httpx.Client) -> str:
    return str(http.cookies["sscard_csrf"])


def register(http: httpx.Client, number: str, born: date, **changes: str) -> str:
    """Register a person through the form; the person's page address."""
    answer = http.post(
        "/registry/persons/new",
        data={**person_form(number, born, **changes), "csrf_token": csrf(http)},
    )
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert re.fullmatch(r"/registry/persons/p/[0-9A-Z]{26}", location)
    return location


def test_pages_send_a_visitor_who_is_not_logged_in_to_the_login_page(
    live_server: LiveServer,
) -> None:
    with httpx.Client(base_url=live_server.url, follow_redirects=False) as http:
        for path in (
            "/registry/persons",
            "/registry/persons/new",
            "/registry/persons/p/01ABCDEFGHJKMNPQRSTVWXYZ00",
            "/registry/employers",
            "/registry/communities",
        ):
            answer = http.get(path)
            assert answer.status_code == 303
            assert answer.headers["location"] == f"/login?next={path}"
        posted = http.post("/registry/persons/new", data=person_form(*citizen_id()))
        assert posted.status_code == 303 and posted.headers["location"].startswith("/login")


def test_a_form_posted_without_its_csrf_token_is_refused_and_nothing_is_written(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    clerk = make_account("clerk")
    number, born = citizen_id()
    with pages_as(live_server, clerk) as http:
        missing = http.post("/registry/persons/new", data=person_form(number, born))
        forged = http.post(
            "/registry/persons/new", data={**person_form(number, born), "csrf_token": "forged"}
        )
        employer = http.post("/registry/employers/new", data={"credit_code": "x", "name": "xx"})
    for answer in (missing, forged, employer):
        assert answer.status_code == 403
        assert answer.headers["content-type"].startswith("text/html")
        assert "页面已过期，请刷新后重试" in answer.text
    with live_server.client(login(live_server, clerk)) as api:
        assert api.get(f"/api/v1/persons/{number}").status_code == 404


def test_an_operator_without_registry_write_gets_a_refusal_page(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    manager = make_account("card_manager")
    number, born = citizen_id()
    with pages_as(live_server, manager) as http:
        assert http.get("/registry/persons").status_code == 200
        shown = http.get("/registry/persons/new")
        posted = http.post(
            "/registry/persons/new", data={**person_form(number, born), "csrf_token": csrf(http)}
        )
    for answer in (shown, posted):
        assert answer.status_code == 403
        assert answer.headers["content-type"].startswith("text/html")
        assert "没有权限" in answer.text and "registry.write" in answer.text
        assert "Traceback" not in answer.text
    with pages_as(live_server, make_account("analyst")) as http:
        refused = http.get("/registry/persons")
        assert refused.status_code == 403 and "registry.read" in refused.text

    with live_server.client(login(live_server, make_account("auditor"))) as api:
        denied = api.get(
            "/api/v1/audit/entries",
            params={"actor_id": manager.username, "action": "iam.permission_denied"},
        ).json()["items"]
        assert {e["detail"]["permission"] for e in denied} == {"registry.write"}
        assert len(denied) == 2
    with live_server.client(login(live_server, make_account("clerk"))) as api:
        assert api.get(f"/api/v1/persons/{number}").status_code == 404


def test_a_person_is_found_by_id_number_shown_masked_and_revealed_only_with_a_purpose(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    number, born = citizen_id()
    phone = mobile()
    with pages_as(live_server, make_account("clerk")) as http:
        location = register(http, number, born, phone=phone)
        found = http.post(
            "/registry/persons", data={"mode": "id", "id_number": number, "csrf_token": csrf(http)}
        )
        assert found.status_code == 303 and found.headers["location"] == location

        shown = http.get(location)
        assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
        assert number[:6] + "********" + number[-4:] in shown.text and "赵*" in shown.text
        for secret in (number, "赵敏", phone, "共青团路"):
            assert secret not in shown.text

        no_purpose = http.post(f"{location}/reveal", data={"csrf_token": csrf(http)})
        assert no_purpose.status_code == 422 and number not in no_purpose.text
        assert "field-error" in no_purpose.text

        revealed = http.post(
            f"{location}/reveal", data={"purpose": "信息变更核对", "csrf_token": csrf(http)}
        )
        assert revealed.status_code == 200 and revealed.headers["cache-control"] == "no-store"
        for secret in (number, "赵敏", phone, "共青团路"):
            assert secret in revealed.text

        by_name = http.post(
            "/registry/persons",
            data={
                "mode": "name",
                "name": "赵敏",
                "birth_date": born.isoformat(),
                "csrf_token": csrf(http),
            },
        )
        assert by_name.status_code == 200 and location in by_name.text
        assert number not in by_name.text
        no_birth_date = http.post(
            "/registry/persons", data={"mode": "name", "name": "赵敏", "csrf_token": csrf(http)}
        )
        assert no_birth_date.status_code == 422 and "请填写出生日期" in no_birth_date.text

        unknown = http.post(
            "/registry/persons",
            data={"mode": "id", "id_number": citizen_id()[0], "csrf_token": csrf(http)},
        )
        assert unknown.status_code == 404 and "未找到该人员" in unknown.text


def test_an_edit_saved_by_someone_else_first_shows_the_conflict_and_keeps_the_input(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    number, born = citizen_id()
    with pages_as(live_server, make_account("clerk")) as http:
        location = register(http, number, born)
        form = http.get(f"{location}/edit")
        version = re.search(r'name="version" value="(\d+)"', form.text)
        assert version is not None and "赵敏" not in form.text and number not in form.text
        edit = {
            **person_form(number, born, name="", address=""),
            "version": version.group(1),
            "csrf_token": csrf(http),
        }
        saved, typed = mobile(), mobile()
        first = http.post(f"{location}/edit", data={**edit, "phone": saved})
        assert first.status_code == 303 and first.headers["location"] == location
        second = http.post(f"{location}/edit", data={**edit, "phone": typed})
        assert second.status_code == 409
        assert "该人员信息已被他人修改" in second.text
        assert f'value="{typed}"' in second.text
        assert f"{saved[:3]}****{saved[-4:]}" in http.get(location).text


def test_a_photo_of_the_wrong_size_is_refused_with_the_rule(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    number, born = citizen_id()
    small = io.BytesIO()
    Image.new("RGB", (300, 400), (200, 220, 240)).save(small, "JPEG", quality=95)
    with pages_as(live_server, make_account("clerk")) as http:
        location = register(http, number, born)
        answer = http.post(
            f"{location}/photo",
            data={"csrf_token": csrf(http)},
            files={"photo": ("photo.jpg", small.getvalue(), "image/jpeg")},
        )
        assert answer.status_code == 422
        assert "照片尺寸应为 358×441 像素（实际 300×400）" in answer.text
        assert http.get(f"{location}/photo").status_code == 404


def test_communities_are_added_with_field_messages(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    code = f"370811002{rng.randrange(100, 1000)}"
    with pages_as(live_server, make_account("clerk")) as http:
        bad = http.post(
            "/registry/communities",
            data={"code": "3708", "name": "测试社区", "csrf_token": csrf(http)},
        )
        assert bad.status_code == 422 and "社区代码应为 12 位数字" in bad.text
        added = http.post(
            "/registry/communities",
            data={"code": code, "name": "测试社区", "csrf_token": csrf(http)},
        )
        assert added.status_code == 303
        listed = http.get("/registry/communities", params={"township_code": code[:9]})
        assert listed.status_code == 200 and code in listed.text
