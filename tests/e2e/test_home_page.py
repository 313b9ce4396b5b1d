"""The home page lists every page the README names, shows each role only the links it may
open (naming the others), and the analyst reaches the issuance statistics, nothing personal."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from tests.e2e.test_issuance_pages import pages_as
from tests.support import Account, LiveServer, login

README = Path(__file__).resolve().parents[2] / "README.md"
ROLES = ("admin", "clerk", "card_manager", "bank_agent", "vendor_agent", "auditor", "analyst")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href and href.startswith("/"):
            self.hrefs.append(href)


def tile_links(html: str) -> list[str]:
    """The links inside the home page's component tiles."""
    section = html[html.index('id="components"') :]
    parser = _Links()
    parser.feed(section)
    return parser.hrefs


def readme_pages() -> set[str]:
    """The page addresses the README's "Using it" section names."""
    text = README.read_text(encoding="utf-8")
    using = text[text.index("## Using it") : text.index("- API under `/api/v1`")]
    return set(re.findall(r"`(/[a-z][a-z/-]*)`", using)) - {"/login"}


def test_the_home_page_links_every_page_the_readme_names(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    with pages_as(live_server, make_account("admin")) as http:
        links = {href.split("#")[0] for href in tile_links(http.get("/").text)}
    assert readme_pages() <= links, readme_pages() - links
    assert "/metrics" not in links


@pytest.mark.parametrize("role", ROLES)
def test_every_link_the_home_page_shows_a_role_opens_for_that_role(
    live_server: LiveServer, make_account: Callable[..., Account], role: str
) -> None:
    with pages_as(live_server, make_account(role)) as http:
        home = http.get("/")
        assert home.status_code == 200
        for href in tile_links(home.text):
            if href.startswith("/api/docs"):
                continue
            answer = http.get(href.split("#")[0])
            assert answer.status_code in (200, 303), f"{role}: {href} -> {answer.status_code}"


def test_the_analyst_sees_the_statistics_and_no_card_or_person(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    analyst = make_account("analyst")
    with pages_as(live_server, analyst) as http:
        home = http.get("/").text
        assert "/cards/stats" in tile_links(home)
        assert "当前角色无权使用" in home
        stats = http.get("/cards/stats")
        assert stats.status_code == 200
        assert "制卡进度" in stats.text
        for personal in ("/cards", "/registry/persons"):
            assert http.get(personal).status_code == 403, personal
    with live_server.client(login(live_server, analyst)) as api:
        assert api.get("/api/v1/issuance/stats/progress").status_code == 200
        assert api.get("/api/v1/issuance/stats/holding").status_code == 200
        assert (
            api.get("/api/v1/cards", params={"id_number": "370811199001011234"}).status_code == 403
        )
    with live_server.client(login(live_server, make_account("bank_agent"))) as api:
        refused = api.get("/api/v1/issuance/stats/progress")
        assert refused.status_code == 403
        assert refused.json()["error"] == "permission_denied"
