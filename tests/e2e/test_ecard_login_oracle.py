"""Opening an e-card with its PIN is no oracle and no way for a stranger to lock it."""

from __future__ import annotations

import httpx
from pydantic import SecretStr
from tests.e2e.test_ecard_online_support import (
    CARD_PIN,
    CLERK,
    ECARD_PIN,
    resident,
    world,
)
from tests.support import LiveServer, citizen_id, person_body

from sscard import db
from sscard.ecard import service as ecard_service
from sscard.ecard.models import ECard
from sscard.ecard.schemas import RealPerson, SignIn
from sscard.issuance.cards import service as issuance_service
from sscard.kit import context
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.schemas import PersonCreate
from sscard.settings import get_settings


def _open(http: httpx.Client, id_number: str, pin: str) -> httpx.Response:
    body = {"id_number": id_number, "ecard_pin": pin, "channel_code": world().channel}
    return http.post("/api/v1/ecard/sessions", json=body)


def _registered_without_ecard() -> str:
    number = citizen_id("370811")
    with db.transaction() as session, context.acting(CLERK):
        registry_service.create_person(
            session, data=PersonCreate.model_validate(person_body(number)), actor=CLERK
        )
    return number


def _pin_failures(card_id: str) -> int:
    with db.transaction() as session:
        ecard = session.query(ECard).filter_by(card_id=card_id).one()
        return ecard.pin_failures


def test_unregistered_without_ecard_and_wrong_pin_get_one_answer(live_server: LiveServer) -> None:
    holder = resident()
    with live_server.client() as http:
        answers = [
            _open(http, citizen_id("370811"), "135790"),
            _open(http, _registered_without_ecard(), "135790"),
            _open(http, holder.id_number, "135790"),
        ]
    shapes = {(a.status_code, a.json()["error"], a.json()["detail"]) for a in answers}
    assert shapes == {(401, "ecard_pin_incorrect", "证件号码或电子社保卡密码错误")}


def test_a_stranger_is_stopped_long_before_the_ecard_locks(live_server: LiveServer) -> None:
    holder = resident()
    with live_server.client() as http:
        statuses = [_open(http, holder.id_number, f"13579{n}").status_code for n in range(8)]
        stranger = citizen_id("370811")
        unknown = [_open(http, stranger, "135790").status_code for _ in range(4)]
    first_stop = statuses.index(429)
    assert 1 <= first_stop <= 5 and set(statuses[first_stop:]) == {429}
    assert set(statuses[:first_stop]) == {401}
    assert _pin_failures(holder.card_id) == first_stop < get_settings().ecard_max_pin_failures
    assert 429 in unknown  # an unregistered number is throttled alike: no oracle


def test_a_locked_ecard_is_named_only_to_its_pin_and_unlocked_after_identity_checks(
    live_server: LiveServer,
) -> None:
    holder = resident()
    with db.transaction() as session:
        ecard = session.query(ECard).filter_by(card_id=holder.card_id).one()
        ecard.pin_failures = get_settings().ecard_max_pin_failures
    with live_server.client() as http:
        right = _open(http, holder.id_number, ECARD_PIN)
        assert right.status_code == 423 and right.json()["error"] == "ecard_pin_locked"
        wrong = _open(http, holder.id_number, "135790")
        assert (wrong.status_code, wrong.json()["error"]) == (401, "ecard_pin_incorrect")
    with db.transaction() as session, context.acting(CLERK):
        card = issuance_service.card_by_id(session, card_id=holder.card_id)
        data = SignIn(
            id_number=holder.id_number,
            name="测试人员",
            card_number=card.card_number or "",
            card_pin=SecretStr(CARD_PIN),
            channel_code=world().channel,
            real_person=RealPerson(method="counter"),
            ecard_pin=SecretStr("258036"),
        )
        ecard_service.reset_pin(session, data=data, actor=CLERK)
    with live_server.client() as http:
        opened = _open(http, holder.id_number, "258036")
        assert opened.status_code == 201, opened.text
    assert _pin_failures(holder.card_id) == 0
