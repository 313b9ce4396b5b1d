"""``all`` is accepted by every status filter (CLI options and API queries) and means no
filter; an unknown status is refused with the accepted values named."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.e2e.test_cli import env, sscard  # noqa: F401 - the fixture is used by name
from tests.support import Account, LiveServer, login

COMMANDS = [
    ("outbox", "list"),
    ("registry", "jobs"),
    ("batch", "failures", "list"),
    ("mapping", "unresolved"),
    ("payments", "merchants", "list"),
    ("payments", "orders", "list"),
]


@pytest.fixture
def migrated(env: dict[str, str]) -> dict[str, str]:  # noqa: F811 - the fixture above
    assert sscard("db", "upgrade", env=env).returncode == 0
    return env


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_status_option_takes_all_and_names_the_choices_for_an_unknown_one(
    migrated: dict[str, str], command: tuple[str, ...]
) -> None:
    every = sscard(*command, "--status", "all", env=migrated)
    assert every.returncode == 0, every.stdout + every.stderr
    unknown = sscard(*command, "--status", "bogus", env=migrated)
    assert unknown.returncode == 2
    assert "bogus" in unknown.stderr and "all" in unknown.stderr


ROUTES = [
    "/api/v1/persons",
    "/api/v1/imports",
    "/api/v1/failures",
    "/api/v1/unresolved-codes",
    "/api/v1/payments/merchants",
    "/api/v1/payments/orders",
]


@pytest.mark.parametrize("path", ROUTES)
def test_every_status_query_takes_all_and_refuses_an_unknown_one_naming_the_field(
    live_server: LiveServer, make_account: Callable[..., Account], path: str
) -> None:
    with live_server.client(login(live_server, make_account("admin"))) as http:
        every = http.get(path, params={"status": "all"})
        assert every.status_code == 200, every.text
        unknown = http.get(path, params={"status": "bogus"})
        assert unknown.status_code == 422
        assert [f["field"] for f in unknown.json()["fields"]] == ["status"]
