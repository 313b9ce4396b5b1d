"""Instant card making through the HTTP API of a live server: idempotent calls (retried,
reused, concurrent), the bank branch's scope, instant replacement, concurrent operations
on one card and the lapse of temporary losses. The server runs without peers configured,
so one-step activation has nothing to wait for and activates the card at once."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from tests.integration.issuance.test_activation import _bank, _person, numbers  # noqa: F401
from tests.support import Account, LiveServer, citizen_id, login, person_body

from sscard import db
from sscard.issuance.cards import service
from sscard.issuance.cards.models import Card
from sscard.kit.context import SYSTEM

pytestmark = pytest.mark.usefixtures("numbers")


def _key() -> str:
    return f"ticket-{secrets.token_hex(8)}"


def _made_body() -> dict[str, str]:
    from peers.bank.branch import atr, card_id_code

    account = "621700" + f"{secrets.randbelow(10**13):013d}"
    return {
        "card_id_code": card_id_code("370800", secrets.randbelow(10**12)),
        "atr": atr(),
        "bank_account": account,
    }


class Branch:
    """A bank agent's HTTP client."""

    def __init__(self, server: LiveServer, token: str) -> None:
        self.http = server.client(token)

    def post(self, path: str, body: dict[str, Any], key: str | None) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return self.http.post(f"/api/v1{path}", json=body, headers=headers)

    def active_card(self, id_number: str) -> str:
        opened = self.post("/instant/accounts", {"id_number": id_number}, _key())
        assert opened.status_code == 201, opened.text
        number = str(opened.json()["card_number"])
        made = self.post(f"/instant/cards/{number}/made", _made_body(), _key())
        assert made.status_code == 200, made.text
        activated = self.post(f"/instant/cards/{number}/activate", {}, _key())
        assert activated.status_code == 202, activated.text
        return number


@pytest.fixture
def bank() -> str:
    return _bank()


@pytest.fixture
def branch(live_server: LiveServer, make_account: Callable[..., Account], bank: str) -> Branch:
    return Branch(live_server, login(live_server, make_account("bank_agent", institution=bank)))


@pytest.fixture
def clerk(live_server: LiveServer, make_account: Callable[..., Account]) -> httpx.Client:
    return live_server.client(login(live_server, make_account("clerk")))


def _cards_of(id_number: str) -> list[Card]:
    with db.transaction() as session:
        return service.cards_of_person(session, id_number=id_number, actor=SYSTEM)


def test_a_branch_opens_makes_and_activates_a_card(branch: Branch, bank: str) -> None:
    holder = _person()
    opened = branch.post("/instant/accounts", {"id_number": holder}, _key())
    assert opened.status_code == 201, opened.text
    body = opened.json()
    assert body["status"]["code"] == "applied" and len(body["card_number"]) == 9
    assert body["holder_id_number"] == holder[:6] + "********" + holder[-4:]
    assert body["holder_name"] == "测***" and body["bank_code"] == bank
    number = body["card_number"]
    picture = branch.http.get(body["photo_url"])
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"

    made = branch.post(f"/instant/cards/{number}/made", _made_body(), _key())
    assert made.status_code == 200, made.text
    card = made.json()
    assert card["status"]["code"] == "issued" and card["location"] == bank
    assert card["mode"] == "instant" and card["bank_account"].startswith("621700******")
    assert branch.http.get(body["photo_url"]).status_code == 409

    activated = branch.post(f"/instant/cards/{number}/activate", {}, _key())
    assert activated.status_code == 202, activated.text
    assert activated.json()["status"] == "done"
    assert activated.json()["card_status"]["code"] == "active"
    progress = branch.http.get(f"/api/v1/cards/{number}/activation").json()
    assert [s["status"] for s in progress["steps"]] == ["skipped", "skipped", "done"]
    timeline = [e["action"] for e in branch.http.get(f"/api/v1/cards/{number}").json()["timeline"]]
    assert timeline == ["apply", "assign_number", "make_instant", "issue", "activation", "activate"]


def test_a_retried_call_gets_the_first_answer_and_never_a_second_card(branch: Branch) -> None:
    holder = _person()
    key = _key()
    first = branch.post("/instant/accounts", {"id_number": holder}, key)
    again = branch.post("/instant/accounts", {"id_number": holder}, key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert len(_cards_of(holder)) == 1

    number, made_key, made = first.json()["card_number"], _key(), _made_body()
    once = branch.post(f"/instant/cards/{number}/made", made, made_key)
    twice = branch.post(f"/instant/cards/{number}/made", made, made_key)
    assert once.status_code == twice.status_code == 200 and once.json() == twice.json()

    other = branch.post("/instant/accounts", {"id_number": _person()}, key)
    assert other.status_code == 409 and other.json()["error"] == "idempotency_key_reused"
    missing = branch.post("/instant/accounts", {"id_number": _person()}, None)
    assert missing.status_code == 422
    assert missing.json()["fields"][0]["field"] == "Idempotency-Key"


def test_concurrent_retries_with_one_key_make_one_card(
    live_server: LiveServer, make_account: Callable[..., Account], bank: str
) -> None:
    token = login(live_server, make_account("bank_agent", institution=bank))
    holder, key, clients = _person(), _key(), 8
    barrier = threading.Barrier(clients)
    answers: list[httpx.Response] = []

    def call() -> None:
        with live_server.client(token) as http:
            barrier.wait()
            answers.append(
                http.post(
                    "/api/v1/instant/accounts",
                    json={"id_number": holder},
                    headers={"Idempotency-Key": key},
                )
            )

    threads = [threading.Thread(target=call) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [201] * clients, [a.text for a in answers]
    assert len({a.json()["card_number"] for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == clients - 1
    assert len(_cards_of(holder)) == 1


def test_a_branch_sees_only_the_cards_of_its_own_bank(
    live_server: LiveServer, make_account: Callable[..., Account], branch: Branch
) -> None:
    number = branch.active_card(_person())
    other = Branch(live_server, login(live_server, make_account("bank_agent", institution=_bank())))
    assert other.post(f"/instant/cards/{number}/activate", {}, _key()).status_code == 404
    assert other.post(f"/instant/cards/{number}/made", _made_body(), _key()).status_code == 404
    assert other.http.get(f"/api/v1/cards/{number}").status_code == 404
    admin = Branch(live_server, login(live_server, make_account("admin")))
    refused = admin.post("/instant/accounts", {"id_number": _person()}, _key())
    assert refused.status_code == 403 and refused.json()["error"] == "bank_branch_only"


def test_a_refused_call_leaves_the_key_free_for_the_retry(branch: Branch) -> None:
    holder = citizen_id("370811")
    with db.transaction() as session:
        from sscard.registry.persons import service as registry_service
        from sscard.registry.persons.schemas import PersonCreate
        from sscard.registry.photos import service as registry_photos

        registry_service.create_person(
            session, data=PersonCreate.model_validate(person_body(holder)), actor=SYSTEM
        )
    key = _key()
    refused = branch.post("/instant/accounts", {"id_number": holder}, key)
    assert refused.status_code == 422 and refused.json()["fields"][0]["field"] == "photo"
    with db.transaction() as session:
        from sscard.registry.persons import service as registry_service
        from sscard.registry.photos import portraits

        registry_photos.put_photo(
            session, id_number=holder, data=portraits.demo_portrait(3), actor=SYSTEM
        )
    assert branch.post("/instant/accounts", {"id_number": holder}, key).status_code == 201


def test_an_instant_replacement_cancels_the_old_card_in_the_same_call(branch: Branch) -> None:
    holder = _person()
    old = branch.active_card(holder)
    body = {"id_number": holder, "replacement_reason": "damaged"}
    opened = branch.post("/instant/accounts", body, _key())
    assert opened.status_code == 201, opened.text
    assert opened.json()["kind"] == "replacement" and opened.json()["replaces_card_number"] == old
    assert branch.http.get(f"/api/v1/cards/{old}").json()["status"]["code"] == "cancelled"
    assert [c.status for c in _cards_of(holder)] == ["applied", "cancelled"]


def _race(clerk: httpx.Client, calls: list[tuple[str, dict[str, Any]]]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(calls))
    answers: list[httpx.Response] = [httpx.Response(0)] * len(calls)
    token = clerk.headers["Authorization"]

    def run(index: int, path: str, body: dict[str, Any]) -> None:
        with httpx.Client(
            base_url=str(clerk.base_url), headers={"Authorization": token}, timeout=30
        ) as http:
            barrier.wait()
            answers[index] = http.post(path, json=body)

    threads = [threading.Thread(target=run, args=(i, *c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


@pytest.mark.parametrize(
    "first,second",
    [
        (("loss", {"temporary": False}), ("loss", {"temporary": False})),
        (("cancel", {"reason": "柜台甲注销"}), ("cancel", {"reason": "柜台乙注销"})),
        (("loss", {"temporary": False}), ("cancel", {"reason": "同时注销"})),
    ],
    ids=["loss-loss", "cancel-cancel", "loss-cancel"],
)
def test_two_clerks_acting_on_one_card_at_once(
    branch: Branch, clerk: httpx.Client, first: tuple[str, Any], second: tuple[str, Any]
) -> None:
    number = branch.active_card(_person())
    answers = _race(clerk, [(f"/api/v1/cards/{number}/{op}", body) for op, body in (first, second)])
    codes = sorted(a.status_code for a in answers)
    refused = [a.json() for a in answers if a.status_code == 409]
    for error in refused:
        assert error["error"] in ("concurrent_change", "transition_not_allowed")
        assert "卡" in error["detail"]
    card = clerk.get(f"/api/v1/cards/{number}").json()
    moves = [(e["from_status"], e["to_status"]) for e in card["timeline"][-2:]]
    if first[0] == second[0]:
        assert codes == [200, 409]
    elif codes == [200, 200]:
        assert moves == [("active", "lost"), ("lost", "cancelled")]
    else:
        assert codes == [200, 409]
    assert card["status"]["code"] in ("lost", "cancelled")


def test_lapsed_temporary_losses_return_to_active(branch: Branch, clerk: httpx.Client) -> None:
    number = branch.active_card(_person())
    lost = clerk.post(f"/api/v1/cards/{number}/loss", json={"temporary": True})
    assert lost.json()["status"]["code"] == "temporarily_lost"
    with db.transaction() as session:
        card = service.card_by_number(session, card_number=number)
        assert card is not None and card.lost_at is not None
        card.lost_at -= timedelta(days=30)
    lapsed = clerk.post("/api/v1/lapse")
    assert lapsed.status_code == 200 and lapsed.json()["lapsed"] >= 1
    assert clerk.get(f"/api/v1/cards/{number}").json()["status"]["code"] == "active"
