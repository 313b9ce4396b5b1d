"""A request's transaction ends in its endpoint's thread: a full thread pool waiting on its
locks cannot hold it up (forty logins of one operator once stopped the server for good)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from fastapi import APIRouter
from fastapi.routing import APIRoute
from tests.support import Account, start_server, stop_server

from sscard.app.factory import create_app
from sscard.httpkit.units import UnitOfWorkRoute


def test_logins_of_one_operator_outnumbering_the_threads_all_answer(
    make_account: Callable[..., Account], tmp_path: Path
) -> None:
    account = make_account("auditor")
    server = start_server(tmp_path / "server.log", extra_env={"SSCARD_HTTP_THREADS": "2"})
    try:

        def login(_: int) -> int:
            answer = httpx.post(
                f"{server.url}/api/v1/auth/token",
                data={"username": account.username, "password": account.password},
                timeout=60,
            )
            return answer.status_code

        with ThreadPoolExecutor(12) as pool:
            codes = list(pool.map(login, range(12)))
        assert codes == [200] * 12
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
    finally:
        stop_server(server)


def test_every_route_of_the_platform_is_a_unit_of_work_route() -> None:
    create_app()
    routers = {
        id(value): (module.__name__, name, value)
        for module in list(sys.modules.values())
        if module is not None and module.__name__.startswith("sscard.")
        for name, value in vars(module).items()
        if isinstance(value, APIRouter)
    }
    assert len(routers) > 50
    plain = [
        f"{module}.{name} {route.path}"
        for module, name, router in routers.values()
        for route in router.routes
        if isinstance(route, APIRoute) and not isinstance(route, UnitOfWorkRoute)
    ]
    assert plain == []
