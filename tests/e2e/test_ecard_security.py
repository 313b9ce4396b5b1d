"""A lost card's e-card stops working everywhere within a second (two worker processes)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine
from tests.integration.cards import signed
from tests.support import (
    Account,
    LiveServer,
    citizen_id,
    login,
    person_body,
    start_server,
    stop_server,
)

from sscard import db
from sscard.ecard.codes import service as codes_service
from sscard.ecard.models import Copy
from sscard.iam import service as iam_service
from sscard.iam.catalog import ChannelType, InstitutionType
from sscard.iam.schemas import ChannelCreate, InstitutionCreate
from sscard.issuance.cards import number_service
from sscard.issuance.cards.schemas import RangeIn
from sscard.kit.context import SYSTEM, acting
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.schemas import PersonCreate
from sscard.registry.photos import portraits
from sscard.registry.photos import service as registry_photos
from sscard.scenarios import service as scenarios
from sscard.scenarios.schemas import TerminalIn


@pytest.fixture(scope="module")
def two_workers(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("w2") / "server.log", workers=2)
    yield server
    stop_server(server)


def _setup() -> tuple[str, int, str]:
    """A committed holder with a signed e-card and a library terminal: (card, copy, token)."""
    tag = secrets.token_hex(3).upper()
    with acting(SYSTEM), db.transaction() as session:
        platform = iam_service.ensure_platform_institution(session).code
        iam_service.create_institution(
            session,
            data=InstitutionCreate(
                code=f"BK{tag}", name="测试银行", type=InstitutionType.bank, region_code="370800"
            ),
        )
        iam_service.create_channel(
            session,
            data=ChannelCreate(
                code=f"CH{tag}",
                name="测试APP",
                type=ChannelType.hrss_app,
                owner_institution_code=platform,
            ),
        )
        number_service.add_range(
            session, data=RangeIn(region_code="370800", prefix=f"S{tag[:3]}", start=1, end=99)
        )
        scenarios.ensure_default_scenarios(session)
        token = scenarios.register_terminal(
            session,
            data=TerminalIn(
                code=f"LIB{tag}",
                name="图书馆闸机",
                institution_code=platform,
                scenario_code="library",
            ),
        ).token
        holder = citizen_id()
        registry_service.create_person(
            session, data=PersonCreate.model_validate(person_body(holder)), actor=SYSTEM
        )
        registry_photos.put_photo(
            session, id_number=holder, data=portraits.demo_portrait(4), actor=SYSTEM
        )
        card, _ecard, copy = signed(session, SYSTEM, f"BK{tag}", holder, f"CH{tag}")
        return card.id, int(copy.id), token


def _codes(copy_id: int, count: int) -> list[str]:
    with db.transaction() as session:
        copy = session.get(Copy, copy_id)
        assert copy is not None
        return [codes_service.issue_code(session, copy=copy).code for _ in range(count)]


def test_a_suspended_copy_is_refused_within_one_second_of_the_loss_report(
    two_workers: LiveServer, make_account: Callable[..., Account]
) -> None:
    card_id, copy_id, terminal = _setup()
    codes = _codes(copy_id, 40)
    clerk = login(two_workers, make_account("clerk"))
    with two_workers.client(terminal) as gate, two_workers.client(clerk) as counter:
        first = gate.post("/api/v1/ecard/codes/verify", json={"code": codes.pop()})
        assert first.status_code == 200, first.text
        lost = counter.post(f"/api/v1/cards/{card_id}/loss", json={"temporary": True})
        assert lost.status_code == 200, lost.text
        reported = time.monotonic()
        refused_after = None
        while codes:
            answer = gate.post("/api/v1/ecard/codes/verify", json={"code": codes.pop()})
            if answer.status_code == 423:
                assert answer.json()["error"] == "card_suspended"
                refused_after = time.monotonic() - reported
                break
            time.sleep(0.02)
        assert refused_after is not None and refused_after < 1.0
        for code in codes[-5:]:
            later = gate.post("/api/v1/ecard/codes/verify", json={"code": code})
            assert later.json()["error"] == "card_suspended"
