"""Times are stored in UTC and shown to people in Beijing time, labelled as such: on the
pages (one template filter) and in the operator CLI (one helper)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine, text
from tests.e2e.test_registry_pages import citizen_id, pages_as, register
from tests.support import Account, LiveServer

from sscard.cli.common import beijing as cli_beijing
from sscard.web.pages import beijing

STORED = datetime(2026, 3, 1, 17, 5, 9, tzinfo=UTC)
"""A UTC time late in the day: in Beijing it is already the next morning."""


def test_the_page_filter_shows_a_utc_time_eight_hours_later_with_its_label() -> None:
    assert beijing(STORED) == "2026-03-02 01:05 北京时间"
    assert beijing(STORED, "seconds") == "2026-03-02 01:05:09 北京时间"
    assert beijing(STORED, "time") == "01:05:09 北京时间"
    assert beijing(STORED, "date") == "2026-03-02"
    assert beijing(STORED.replace(tzinfo=None), label=False) == "2026-03-02 01:05"
    assert beijing(None) == "—"
    assert cli_beijing(STORED) == "2026-03-02 01:05:09"


def test_a_person_page_shows_the_registration_time_in_beijing_time(
    live_server: LiveServer, make_account: Callable[..., Account], engine: Engine
) -> None:
    with pages_as(live_server, make_account("clerk")) as http:
        location = register(http, *citizen_id())
        person_id = location.rsplit("/", 1)[1]
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE registry_person SET created_at = :at, updated_at = :at WHERE id = :id"
                ),
                {"at": STORED, "id": person_id},
            )
        shown = http.get(location)
    assert shown.status_code == 200
    assert "2026-03-02 01:05 · 更新 2026-03-02 01:05（北京时间）" in shown.text
    assert "UTC" not in shown.text
