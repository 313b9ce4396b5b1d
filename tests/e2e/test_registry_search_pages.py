"""The person search page over HTTP: pages of results, filters kept in the URL (never
personal data), a page past the last, and the registration time shown in Beijing time."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import date

import httpx
from tests.browser.test_registry_pages import credit_code
from tests.e2e.test_registry_pages import csrf, pages_as
from tests.support import Account, LiveServer, login, person_body

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
rng = random.SystemRandom()


def some_day() -> date:
    """A random birth date (the test database outlives one run)."""
    return date(rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28))


def born_on(day: date, sequence: int) -> str:
    """An ID number of Rencheng for a person born on ``day`` (sequence 1-999)."""
    first17 = f"370811{day:%Y%m%d}{sequence:03d}"
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def masked_ids(html: str) -> set[str]:
    return set(re.findall(r'<td class="mono">(\d{6}\*{8}[0-9X]{4})</td>', html))


def register(http: httpx.Client, numbers: list[str], **changes: object) -> None:
    for number in numbers:
        answer = http.post("/api/v1/persons", json=person_body(number, **changes))
        assert answer.status_code == 201, answer.text


def test_an_employers_persons_page_through_with_the_credit_code_kept_in_the_url(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    clerk = make_account("clerk")
    code = credit_code()
    day = some_day()
    with live_server.client(login(live_server, clerk)) as api:
        employer = api.post(
            "/api/v1/employers",
            json={"credit_code": code, "name": f"分页测试{code[-6:]}公司", "region_code": "370811"},
        )
        assert employer.status_code == 201, employer.text
        numbers = [born_on(day, 100 + n) for n in range(23)]
        register(api, numbers, employer_id=employer.json()["id"])

    with pages_as(live_server, clerk) as http:
        first = http.get("/registry/persons", params={"mode": "employer", "credit_code": code})
        assert first.status_code == 200
        assert "共 23 条，第 1 / 2 页" in first.text
        assert f'value="{code}"' in first.text
        next_link = f'href="/registry/persons?mode=employer&amp;credit_code={code}&amp;page=2"'
        assert next_link in first.text

        second = http.get(
            "/registry/persons", params={"mode": "employer", "credit_code": code, "page": "2"}
        )
        assert "第 2 / 2 页" in second.text and f'value="{code}"' in second.text
        assert len(masked_ids(first.text)) == 20 and len(masked_ids(second.text)) == 3
        assert not masked_ids(first.text) & masked_ids(second.text)

        past = http.get(
            "/registry/persons", params={"mode": "employer", "credit_code": code, "page": "9"}
        )
        assert "第 2 / 2 页" in past.text and masked_ids(past.text) == masked_ids(second.text)


def test_a_name_search_pages_by_post_and_keeps_only_the_mode_in_the_url(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    clerk = make_account("clerk")
    day = some_day()
    name = "分页" + "".join(rng.choice("甲乙丙丁戊己庚辛壬癸") for _ in range(3))
    with live_server.client(login(live_server, clerk)) as api:
        register(api, [born_on(day, 300 + n) for n in range(21)], name=name)

    with pages_as(live_server, clerk) as http:
        form = {"mode": "name", "name": name, "birth_date": day.isoformat()}
        first = http.post("/registry/persons?mode=name", data={**form, "csrf_token": csrf(http)})
        assert first.status_code == 200
        assert 'action="/registry/persons?mode=name"' in first.text
        assert "共 21 条，第 1 / 2 页" in first.text
        assert name not in re.sub(r'value="[^"]*"', "", first.text.split("查询结果")[0])
        second = http.post(
            "/registry/persons?mode=name", data={**form, "page": "2", "csrf_token": csrf(http)}
        )
        assert "第 2 / 2 页" in second.text
        assert len(masked_ids(first.text)) == 20 and len(masked_ids(second.text)) == 1

        again = http.get("/registry/persons", params={"mode": "name"})
        assert 'class="active" aria-current="true">按姓名和出生日期' in again.text


def test_the_persons_registration_time_is_shown_in_beijing_time_and_labelled(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    clerk = make_account("clerk")
    number = born_on(some_day(), 501)
    with live_server.client(login(live_server, clerk)) as api:
        answer = api.post("/api/v1/persons", json=person_body(number))
        assert answer.status_code == 201, answer.text
        stored = answer.json()["created_at"]
    with pages_as(live_server, clerk) as http:
        found = http.post(
            "/registry/persons", data={"mode": "id", "id_number": number, "csrf_token": csrf(http)}
        )
        page = http.get(found.headers["location"]).text
    shown = re.search(r"<dt>登记时间</dt><dd[^>]*>(.*?)</dd>", page)
    assert shown is not None and "（北京时间）" in shown.group(1)
    utc_hour = int(stored[11:13])
    beijing_hour = int(shown.group(1).split(" ")[1][:2])
    assert beijing_hour == (utc_hour + 8) % 24
