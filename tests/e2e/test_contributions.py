"""Contributions (人社缴费) end to end: a resident chooses a year and a grade in the wallet,
pays on the bank's pay page, the bank's signed notice marks the order paid, and the worker
reports the contribution to the social insurance system exactly once, however often it
runs; a second payment for the year is refused in words."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine
from tests.e2e.online_world import (
    OnlineWorld,
    bank_account,
    confirm_on_bank_page,
    online_world,
    until,
)
from tests.e2e.paycodes_world import Bank, fund, payer
from tests.e2e.test_ecard_pages import active_holder, csrf, setting, wallet_of
from tests.e2e.test_payments_pages import institution
from tests.support import Account, login

YEAR = (datetime.now(UTC) + timedelta(hours=8)).year


@pytest.fixture(scope="module")
def world(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OnlineWorld]:
    logs = tmp_path_factory.mktemp("contributions")
    yield from online_world(logs, [setting().bank], engine.dialect.name)


def _worker(world: OnlineWorld) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "sscard.cli.main", "worker", "--once"],
        env={**os.environ, **world.env},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _pay_year(http: httpx.Client, bank: str, grade_fen: int) -> httpx.Response:
    http.get("/wallet/contributions")
    return http.post(
        "/wallet/contributions",
        data={
            "csrf_token": csrf(http),
            "year": str(YEAR),
            "grade_fen": str(grade_fen),
            "channel": "online_bank",
            "bank_code": bank,
        },
    )


def test_a_paid_contribution_is_reported_once_even_with_the_worker_run_twice(
    world: OnlineWorld, make_account: Callable[..., Account]
) -> None:
    holder = active_holder()
    bank = setting().bank
    account = bank_account(world, bank, holder.card_number, 500_000)
    httpx.put(f"{world.bank}/control/paypage", json={"hold_notices": False})
    with wallet_of(world.server, holder) as http:
        page = http.get("/wallet/contributions")
        assert page.status_code == 200 and "城乡居民基本养老保险" in page.text
        started = _pay_year(http, bank, 30_000)
        assert started.status_code == 303, started.text
        pay_url = started.headers["location"]
        assert pay_url.startswith(f"{world.bank}/paypage?")
        back = confirm_on_bank_page(pay_url, account)
        result = http.get(back.headers["location"].removeprefix(world.server.url))
        assert result.status_code == 200 and "支付" in result.text
        mine = until(lambda: "已支付" in (t := http.get("/wallet/contributions").text) and t)
        assert f'data-year="{YEAR}"' in mine
        clerk = world.server.client(login(world.server, make_account("clerk")))
        _worker(world)
        first = httpx.get(f"{world.social}/control/stats").json()
        _worker(world)  # other tests' contributions in this database may go with the first run
        assert httpx.get(f"{world.social}/control/stats").json() == first
        assert first["records"] >= 1
        recorded = httpx.post(
            f"{world.social}/contributions/query", json={"id_number": holder.id_number}
        ).json()["items"]
        assert [(r["year"], r["amount_fen"]) for r in recorded] == [(YEAR, 30_000)]
        listed = clerk.get("/api/v1/payments/contributions", params={"status": "reported"})
        assert listed.status_code == 200
        assert recorded[0]["order_no"] in [c["order_no"] for c in listed.json()]
        other = make_account("clerk", institution=institution("370812"))
        with world.server.client(login(world.server, other)) as elsewhere:
            theirs = elsewhere.get("/api/v1/payments/contributions").json()
        assert recorded[0]["order_no"] not in [c["order_no"] for c in theirs]
        again = _pay_year(http, bank, 50_000)
        assert again.status_code == 409
        assert re.search(rf"{YEAR} 年度城乡居民基本养老保险已缴费，不能重复缴费", again.text)
        assert httpx.get(f"{world.social}/control/stats").json() == first


def test_a_grade_the_city_does_not_offer_is_named_beside_its_field(world: OnlineWorld) -> None:
    holder = active_holder()
    with wallet_of(world.server, holder) as http:
        refused = _pay_year(http, setting().bank, 12_345)
    assert refused.status_code == 422
    assert (
        'id="error-grade_fen"' in refused.text and "缴费档次不是本市公布的档次之一" in refused.text
    )


def test_the_cli_lists_the_grades_and_the_reported_contributions(world: OnlineWorld) -> None:
    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "sscard.cli.main", "payments", "contributions", *args],
            env={**os.environ, **world.env, "SSCARD_CONTRIBUTION_GRADES_YUAN": "[300, 200]"},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    grades = cli("grades")
    assert f"{YEAR}、{YEAR + 1}" in grades and "200.00、300.00" in grades
    assert "状态" in cli("list", "--status", "reported")


def test_a_contribution_paid_from_the_card_is_debited_at_the_bank_and_reported(
    world: OnlineWorld,
) -> None:
    who = payer()
    fund(Bank(world.bank, world.server), who, 100_000)
    with httpx.Client(base_url=world.server.url, follow_redirects=False, timeout=60) as http:
        http.cookies.set("sscard_wallet", who.resident.token, path="/wallet")
        http.get("/wallet/contributions")
        form = {
            "csrf_token": csrf(http),
            "year": str(YEAR),
            "grade_fen": "20000",
            "channel": "card",
        }
        started = http.post("/wallet/contributions", data=form)
        assert started.status_code == 303, started.text
        detail = started.headers["location"]
        assert "确认从社保卡账户支付 200.00 元" in http.get(detail).text
        paid = http.post(f"{detail}/pay", data={"csrf_token": csrf(http)})
        assert paid.status_code == 303, paid.text
        assert "已支付，正在上报社保经办机构" in http.get(detail).text
        body = {"bank_code": who.bank_code, "card_number": who.card_number, "account": who.account}
        balance = httpx.post(f"{world.bank}/accounts/balance", json=body).json()["balance_fen"]
        assert balance == 80_000
        _worker(world)
        assert "已缴费（社保经办机构已记录）" in http.get(detail).text
    recorded = httpx.post(
        f"{world.social}/contributions/query", json={"id_number": who.resident.id_number}
    ).json()["items"]
    assert [(r["year"], r["amount_fen"]) for r in recorded] == [(YEAR, 20_000)]
