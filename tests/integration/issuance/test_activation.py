"""One-step activation as a saga, changing the service bank, bank queries, off-site cards,
transfer and the provincial record, against the bank, transport and province peers served
in-process over real HTTP. Work is committed (the outbox delivers only committed messages)
and each test uses fresh people, cards and banks."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from peers.bank.app import create_app as bank_app
from peers.bank.branch import card_id_code
from peers.province.app import create_app as province_app
from peers.transport.app import create_app as transport_app
from sqlalchemy import Engine, select
from tests.support import citizen_id, free_port, person_body

from sscard import db
from sscard.crypto import keyring
from sscard.db import utcnow
from sscard.errors import ValidationFailed
from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType
from sscard.iam.schemas import InstitutionCreate
from sscard.issuance import wiring
from sscard.issuance.activation import bank_service
from sscard.issuance.activation import errors as activation_errors
from sscard.issuance.activation import schemas as activation_schemas
from sscard.issuance.activation import service as activation
from sscard.issuance.cards import application_service, making_service, number_service, service
from sscard.issuance.cards.errors import ActiveCardExists, ConcurrentChange, RestoreRefused
from sscard.issuance.cards.models import Card
from sscard.issuance.cards.schemas import ApplicationIn, RangeIn
from sscard.issuance.instant import errors as instant_errors
from sscard.issuance.instant import province_service
from sscard.issuance.lifecycle import Action
from sscard.kit import outbox
from sscard.kit.context import Actor, ActorKind
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.schemas import PersonCreate
from sscard.registry.photos import portraits
from sscard.registry.photos import service as registry_photos
from sscard.settings import reset_settings

CLERK = Actor(
    kind=ActorKind.operator,
    id="saga-clerk",
    name="卡管柜员",
    institution_code="PLATFORM",
    institution_type="hrss_bureau",
    region_code="370800",
    permissions=frozenset({"*"}),
)


# ---- peers served in threads -----------------------------------------------------------


@dataclass
class Peers:
    bank: str
    transport: str
    province: str

    def put(self, base: str, path: str, body: dict[str, Any]) -> None:
        assert httpx.put(f"{base}{path}", json=body).status_code == 204

    def post(self, base: str, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{base}{path}", json=body)

    def clear_faults(self) -> None:
        httpx.delete(f"{self.bank}/control/faults")
        httpx.delete(f"{self.transport}/control/faults")


def _serve(app: FastAPI) -> tuple[str, uvicorn.Server, threading.Thread]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "peer did not start"
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}", server, thread


@pytest.fixture(scope="module")
def peers() -> Iterator[Peers]:
    served = [_serve(factory()) for factory in (bank_app, transport_app, province_app)]
    yield Peers(*(url for url, _, _ in served))
    for _, server, thread in served:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def wired(peers: Peers, monkeypatch: pytest.MonkeyPatch) -> Iterator[Peers]:
    """The platform configured to reach the peers; only this module's destinations."""
    monkeypatch.setenv("SSCARD_BANK_URLS", json.dumps({"*": peers.bank}))
    monkeypatch.setenv("SSCARD_TRANSPORT_URL", peers.transport)
    monkeypatch.setenv("SSCARD_PROVINCE_URL", peers.province)
    reset_settings()
    peers.clear_faults()
    with outbox.destinations():
        wiring.wire()
        wiring.wire()
        yield peers
    peers.clear_faults()
    monkeypatch.undo()
    reset_settings()


class Clock:
    """Outbox time that jumps ahead, so that retries are due without waiting."""

    def __init__(self) -> None:
        self.now = utcnow()

    def drain(self, rounds: int = 40) -> outbox.DeliveryReport:
        total = outbox.DeliveryReport()
        for _ in range(rounds):
            self.now += timedelta(hours=1)
            report = outbox.deliver_due(now=self.now)
            for name in ("claimed", "delivered", "retried", "dead"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            if report.claimed == 0:
                return total
        return total


# ---- committed data ----------------------------------------------------------------------


def _bank() -> str:
    code = f"BS{secrets.token_hex(3).upper()}"
    with db.transaction() as session:
        iam_service.create_institution(
            session,
            data=InstitutionCreate(
                code=code, name="测试合作银行", type=InstitutionType.bank, region_code="370800"
            ),
        )
    return code


@pytest.fixture(scope="module")
def numbers(engine: Engine) -> None:
    """A block of card numbers (committed), and no key cached from another test database."""
    keyring.reset()
    for _ in range(20):
        prefix = "S" + secrets.token_hex(2).upper()[:3]
        try:
            with db.transaction() as session:
                number_service.add_range(
                    session, data=RangeIn(region_code="370800", prefix=prefix, start=1, end=99999)
                )
            return
        except ValidationFailed:  # an overlapping prefix: take another
            continue


def _person(region: str = "370811") -> str:
    number = citizen_id(region)
    with db.transaction() as session:
        registry_service.create_person(
            session, data=PersonCreate.model_validate(person_body(number)), actor=CLERK
        )
        registry_photos.put_photo(
            session, id_number=number, data=portraits.demo_portrait(7), actor=CLERK
        )
    return number


def _issued(bank: str, *, generation: int = 3) -> str:
    """A card made (batch) and issued to its holder; returns the card id."""
    with db.transaction() as session:
        data = ApplicationIn(id_number=_person(), bank_code=bank, generation=generation)
        card = application_service.apply(session, data=data, actor=CLERK)
        number_service.assign_number(session, card=card, actor=CLERK)
        service.transition(session, card=card, action=Action.submit, actor=CLERK)
        made = making_service.MadeCard(
            card_id_code=card_id_code("370800", secrets.randbelow(10**12), generation=generation),
            atr="3B6C00000A3180",
            bank_account="621700" + f"{secrets.randbelow(10**13):013d}",
            issue_date=date(2026, 11, 1),
        )
        making_service.record_made(session, card=card, made=made, actor=CLERK)
        service.transition(session, card=card, action=Action.issue, actor=CLERK)
        return card.id


def _card(card_id: str) -> Card:
    with db.transaction() as session:
        return service.card_by_id(session, card_id=card_id)


def _timeline(card_id: str) -> list[str]:
    with db.transaction() as session:
        card = service.card_by_id(session, card_id=card_id)
        return [e.action for e in service.card_detail(session, card).timeline]


def _start(card_id: str) -> activation_schemas.ActivationOut:
    with db.transaction() as session:
        return activation.activate(session, card_ref=card_id, actor=CLERK)


def _progress(card_id: str) -> activation_schemas.ActivationOut:
    with db.transaction() as session:
        return activation.get_activation(session, card_ref=card_id, actor=CLERK)


def _bank_account(peers: Peers, bank: str, card_number: str) -> dict[str, Any]:
    found = peers.post(
        peers.bank, "/control/lookup", {"bank_code": bank, "card_number": card_number}
    )
    assert found.status_code == 200, found.text
    return dict(found.json())


def _transit(peers: Peers, card_number: str) -> dict[str, Any]:
    return dict(httpx.get(f"{peers.transport}/transit/cards/{card_number}").json())


# ---- one-step activation -------------------------------------------------------------------


def test_one_step_activation_activates_the_account_the_transit_function_and_the_card(
    wired: Peers, numbers: None
) -> None:
    bank = _bank()
    card_id = _issued(bank)
    started = _start(card_id)
    assert started.status == "pending" and started.card_status.code == "issued"
    assert [(s.step, s.status) for s in started.steps] == [
        ("bank", "pending"),
        ("transport", "pending"),
        ("card", "pending"),
    ]
    Clock().drain()
    card = _card(card_id)
    assert card.status == "active" and card.bank_account_active and card.transport_enabled
    done = _progress(card_id)
    assert done.status == "done" and {s.status for s in done.steps} == {"done"}
    assert _bank_account(wired, bank, card.card_number or "")["status"] == "active"
    assert _transit(wired, card.card_number or "")["status"] == "enabled"
    timeline = _timeline(card_id)
    assert timeline[-4:] == ["activation", "activation_step", "activation_step", "activate"]


def test_a_transport_refusal_undoes_the_bank_account_and_leaves_the_card_issued(
    wired: Peers, numbers: None
) -> None:
    bank = _bank()
    card_id = _issued(bank)
    number = _card(card_id).card_number or ""
    wired.put(
        wired.transport,
        "/control/faults",
        {"operation": "enable", "mode": "refuse", "card_numbers": [number]},
    )
    _start(card_id)
    Clock().drain()
    failed = _progress(card_id)
    assert failed.status == "failed" and failed.card_status.code == "issued"
    assert failed.reason is not None and "交通功能开通失败" in failed.reason
    assert {s.step: s.status for s in failed.steps} == {
        "bank": "compensated",
        "transport": "failed",
        "card": "failed",
    }
    assert _bank_account(wired, bank, number)["status"] == "inactive"
    card = _card(card_id)
    assert not card.bank_account_active and not card.transport_enabled
    assert {"activation_failed", "activation_compensated"} <= set(_timeline(card_id))

    wired.clear_faults()
    again = _start(card_id)
    assert again.status == "pending" and {s.run for s in again.steps} == {2}
    Clock().drain()
    assert _progress(card_id).status == "done" and _card(card_id).status == "active"


def test_an_unavailable_peer_is_retried_with_backoff_until_it_answers(
    wired: Peers, numbers: None
) -> None:
    card_id = _issued(_bank())
    number = _card(card_id).card_number or ""
    wired.put(
        wired.transport,
        "/control/faults",
        {"operation": "enable", "mode": "unavailable", "times": 2, "card_numbers": [number]},
    )
    _start(card_id)
    clock = Clock()
    report = clock.drain()
    assert report.retried == 2
    assert _progress(card_id).status == "done"
    with db.transaction() as session:
        message = session.scalars(
            select(outbox.OutboxMessage).where(
                outbox.OutboxMessage.idempotency_key == f"activation:{card_id}:1:transport:do"
            )
        ).one()
        assert message.status == "delivered" and message.attempts == 3


def test_an_activation_under_way_cannot_be_started_again(wired: Peers, numbers: None) -> None:
    card_id = _issued(_bank())
    _start(card_id)
    with pytest.raises(activation_errors.ActivationInProgress):
        _start(card_id)
    Clock().drain()
    assert _card(card_id).status == "active"


def test_a_card_cancelled_during_activation_is_not_activated_and_the_steps_are_undone(
    wired: Peers, numbers: None
) -> None:
    bank = _bank()
    card_id = _issued(bank)
    number = _card(card_id).card_number or ""
    _start(card_id)
    clock = Clock()
    clock.now += timedelta(hours=1)
    assert outbox.deliver_due(now=clock.now).delivered == 1
    with db.transaction() as session:
        service.cancel(session, card_ref=card_id, reason="持卡人放弃", actor=CLERK)
    clock.drain()
    progress = _progress(card_id)
    assert progress.status == "failed" and progress.card_status.code == "cancelled"
    assert {s.step: s.status for s in progress.steps} == {
        "bank": "compensated",
        "transport": "compensated",
        "card": "failed",
    }
    assert _transit(wired, number)["status"] == "disabled"
    assert _bank_account(wired, bank, number)["status"] == "inactive"


def test_without_partners_the_card_is_activated_at_once(
    numbers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SSCARD_BANK_URLS", "SSCARD_TRANSPORT_URL"):
        monkeypatch.delenv(name, raising=False)
    reset_settings()
    card_id = _issued(_bank())
    done = _start(card_id)
    assert done.status == "done" and done.card_status.code == "active"
    assert {s.step: s.status for s in done.steps} == {
        "bank": "skipped",
        "transport": "skipped",
        "card": "done",
    }


# ---- changing the service bank ------------------------------------------------------------


def test_a_third_generation_card_changes_its_bank_and_both_banks_are_told(
    wired: Peers, numbers: None
) -> None:
    old_bank, new_bank = _bank(), _bank()
    card_id = _issued(old_bank)
    _start(card_id)
    Clock().drain()
    number = _card(card_id).card_number or ""
    with db.transaction() as session:
        changed = bank_service.change_bank(
            session, card_ref=card_id, bank_code=new_bank, actor=CLERK, note="持卡人申请"
        )
        assert changed.bank_code == new_bank and changed.bank_account_masked is None
        with pytest.raises(activation_errors.BankChangeRefused, match="上一次换绑"):
            bank_service.change_bank(session, card_ref=card_id, bank_code=old_bank, actor=CLERK)
    Clock().drain()
    card = _card(card_id)
    assert card.bank_code == new_bank and card.bank_account_active
    assert card.bank_account_masked is not None and card.bank_account_masked.startswith("621700")
    assert _bank_account(wired, old_bank, number)["status"] == "unbound"
    bound = _bank_account(wired, new_bank, number)
    assert bound["status"] == "active" and bound["account"][-4:] == card.bank_account_masked[-4:]
    assert {"bank_change", "bank_unbound", "bank_bound"} <= set(_timeline(card_id))


def test_a_second_generation_card_keeps_its_bank(wired: Peers, numbers: None) -> None:
    card_id = _issued(_bank(), generation=2)
    with (
        db.transaction() as session,
        pytest.raises(activation_errors.BankChangeRefused, match="补换卡"),
    ):
        bank_service.change_bank(session, card_ref=card_id, bank_code=_bank(), actor=CLERK)


def test_balance_and_transactions_come_from_the_bank(wired: Peers, numbers: None) -> None:
    bank = _bank()
    card_id = _issued(bank)
    _start(card_id)
    Clock().drain()
    with db.transaction() as session:
        card = service.card_by_id(session, card_id=card_id)
        account = making_service.bank_account(session, card=card)
    for amount, kind in ((50000, "benefit"), (-1250, "payment")):
        posted = wired.post(
            wired.bank,
            "/control/postings",
            {
                "bank_code": bank,
                "card_number": card.card_number,
                "account": account,
                "amount_fen": amount,
                "kind": kind,
                "description": "测试",
            },
        )
        assert posted.status_code == 200, posted.text
    with db.transaction() as session:
        balance = bank_service.bank_balance(session, card_ref=card_id, actor=CLERK)
        items = bank_service.bank_transactions(session, card_ref=card_id, actor=CLERK, limit=2)
    assert balance.balance_fen == 48750 and balance.available_fen == 48750
    assert balance.bank_account == card.bank_account_masked
    assert [t.amount_fen for t in items] == [-1250, 50000]


# ---- off-site cards, transfer, the provincial record ------------------------------------------


def _province_card(peers: Peers, id_number: str, region: str = "370100") -> str:
    number = "Q" + f"{secrets.randbelow(10**8):08d}"
    reported = peers.post(
        peers.province,
        "/province/cards",
        {
            "card_number": number,
            "id_number": id_number,
            "name": "异地持卡人",
            "card_id_code": card_id_code(region, secrets.randbelow(10**12)),
            "region_code": region,
            "status": "active",
            "bank_code": "BANK-JNB",
            "issue_date": "2024-05-01",
        },
    )
    assert reported.status_code == 201, reported.text
    return number


def test_an_off_site_card_is_downloaded_for_a_person_registered_here(
    wired: Peers, numbers: None
) -> None:
    holder = _person()
    number = _province_card(wired, holder)
    with db.transaction() as session:
        card = province_service.download_offsite(session, id_number=holder, actor=CLERK)
        assert card.is_offsite and card.card_number == number and card.status == "active"
        assert (card.region_code, card.managing_region_code) == ("370100", "370100")
        again = province_service.download_offsite(session, id_number=holder, actor=CLERK)
        assert again.id == card.id
        info = province_service.person_cards(session, id_number=holder, actor=CLERK)
    assert [c.card_number for c in info.local] == [number]
    assert [(c.card_number, c.local, c.holder_name) for c in info.provincial] == [
        (number, True, "异****")
    ]
    assert _timeline(card.id) == ["download"]


def test_a_person_with_a_live_card_here_cannot_download_another(
    wired: Peers, numbers: None
) -> None:
    card_id = _issued(_bank())
    with db.transaction() as session:
        holder = registry_service.id_number_of(
            session, person_id=service.card_by_id(session, card_id=card_id).person_id, actor=CLERK
        )
    _province_card(wired, holder)
    with db.transaction() as session, pytest.raises(ActiveCardExists):
        province_service.download_offsite(session, id_number=holder, actor=CLERK)


def test_an_off_site_card_is_transferred_here_and_the_province_is_told(
    wired: Peers, numbers: None
) -> None:
    holder = _person()
    number = _province_card(wired, holder)
    with db.transaction() as session:
        card_id = province_service.download_offsite(session, id_number=holder, actor=CLERK).id
    with db.transaction() as session:
        moved = province_service.transfer(
            session, card_ref=number, to_region_code="370800", actor=CLERK
        )
        assert moved.managing_region_code == "370800" and moved.is_offsite
        with pytest.raises(instant_errors.TransferRefused, match="已由 370800 管理"):
            province_service.transfer(
                session, card_ref=number, to_region_code="370800", actor=CLERK
            )
    Clock().drain()
    record = httpx.get(f"{wired.province}/province/cards/{number}").json()
    assert record["managing_region_code"] == "370800"
    assert _timeline(card_id)[-2:] == ["transfer", "province_informed"]


def test_a_card_of_another_city_cannot_move_between_two_other_cities(
    wired: Peers, numbers: None
) -> None:
    holder = _person()
    number = _province_card(wired, holder)
    with db.transaction() as session:
        province_service.download_offsite(session, id_number=holder, actor=CLERK)
        with pytest.raises(instant_errors.TransferRefused, match="只能转出本市"):
            province_service.transfer(
                session, card_ref=number, to_region_code="370200", actor=CLERK
            )


def test_the_provincial_record_is_cancelled_after_the_card_and_then_it_cannot_be_restored(
    wired: Peers, numbers: None
) -> None:
    card_id = _issued(_bank())
    number = _card(card_id).card_number or ""
    with db.transaction() as session:
        with pytest.raises(instant_errors.ProvinceCancelRefused, match="请先注销本地卡片"):
            province_service.cancel_in_province(
                session, card_ref=card_id, reason="重复制卡", actor=CLERK
            )
        service.cancel(session, card_ref=card_id, reason="重复制卡", actor=CLERK)
        province_service.cancel_in_province(
            session, card_ref=card_id, reason="重复制卡", actor=CLERK
        )
        with pytest.raises(instant_errors.ProvinceCancelRefused, match="已注销"):
            province_service.cancel_in_province(
                session, card_ref=card_id, reason="重复制卡", actor=CLERK
            )
    Clock().drain()
    record = httpx.get(f"{wired.province}/province/cards/{number}").json()
    assert record["status"] == "cancelled" and record["cancel_reason"] == "重复制卡"
    with pytest.raises(RestoreRefused, match="省级卡信息已注销"), db.transaction() as session:
        service.restore(session, card_ref=card_id, actor=CLERK)
    assert _card(card_id).status == "cancelled"


def test_a_refusal_of_the_province_is_written_on_the_timeline(wired: Peers, numbers: None) -> None:
    card_id = _issued(_bank())
    with db.transaction() as session:
        card = service.card_by_id(session, card_id=card_id)
        holder = registry_service.id_number_of(session, person_id=card.person_id, actor=CLERK)
    reported = wired.post(
        wired.province,
        "/province/cards",
        {
            "card_number": card.card_number,
            "id_number": holder,
            "name": "测试",
            "card_id_code": card.card_id_code,
            "region_code": "370800",
            "managing_region_code": "370200",
            "bank_code": "X",
        },
    )
    assert reported.status_code == 201
    with db.transaction() as session:
        province_service.transfer(session, card_ref=card_id, to_region_code="370100", actor=CLERK)
    assert Clock().drain().dead == 1
    with db.transaction() as session:
        timeline = service.card_detail(session, service.card_by_id(session, card_id=card_id))
    refused = timeline.timeline[-1]
    assert refused.action == "province_refused" and "370200" in refused.detail["reason"]


# ---- concurrent changes of one card ---------------------------------------------------------


def test_of_two_sessions_changing_one_card_the_second_gets_a_clear_conflict(
    engine: Engine, numbers: None
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("two open write transactions need PostgreSQL (SQLite has one writer)")
    card_id = _issued(_bank())
    with db.transaction() as first, db.transaction() as second:
        a = service.get_card(first, card_ref=card_id, actor=CLERK)
        b = service.get_card(second, card_ref=card_id, actor=CLERK)
        service.transition(first, card=a, action=Action.activate, actor=CLERK)
        first.commit()
        with pytest.raises(ConcurrentChange):
            service.cancel(second, card_ref=b.id, reason="并发注销", actor=CLERK)
        second.rollback()
    assert _card(card_id).status == "active"
