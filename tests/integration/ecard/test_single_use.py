"""A code is accepted once, however many terminals present it at the same moment."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from tests.conftest import REDIS_URL
from tests.integration.cards import signed
from tests.support import citizen_id, person_body

from sscard import db
from sscard.ecard.codes import service as codes_service
from sscard.ecard.models import Copy
from sscard.errors import SSCardError
from sscard.iam import service as iam_service
from sscard.iam.catalog import ChannelType, InstitutionType
from sscard.iam.schemas import ChannelCreate, InstitutionCreate
from sscard.issuance.cards import number_service
from sscard.issuance.cards.schemas import RangeIn
from sscard.kit.context import SYSTEM, Actor, ActorKind, acting
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.schemas import PersonCreate
from sscard.registry.photos import portraits
from sscard.registry.photos import service as registry_photos
from sscard.scenarios import service as scenarios
from sscard.settings import reset_settings

TERMINALS = [
    Actor(
        kind=ActorKind.terminal,
        id=f"GATE-{n}",
        name="闸机",
        permissions=frozenset({"ecard.verify"}),
    )
    for n in range(8)
]


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.redis)])
def guard_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "redis":
        if not REDIS_URL:
            pytest.skip("Redis tests need SSCARD_TEST_REDIS_URL")
        os.environ["SSCARD_REDIS_URL"] = REDIS_URL
    reset_settings()
    yield request.param
    os.environ.pop("SSCARD_REDIS_URL", None)
    reset_settings()


@pytest.fixture
def copy_id(engine: Engine) -> int:
    """A committed holder with a signed e-card; the copy's number."""
    tag = secrets.token_hex(3).upper()
    with acting(SYSTEM), db.transaction() as session:
        platform = iam_service.ensure_platform_institution(session).code
        iam_service.create_institution(
            session,
            data=InstitutionCreate(
                code=f"BK{tag}",
                name="并发测试银行",
                type=InstitutionType.bank,
                region_code="370800",
            ),
        )
        iam_service.create_channel(
            session,
            data=ChannelCreate(
                code=f"CH{tag}",
                name="并发测试APP",
                type=ChannelType.hrss_app,
                owner_institution_code=platform,
            ),
        )
        number_service.add_range(
            session, data=RangeIn(region_code="370800", prefix=f"C{tag[:3]}", start=1, end=99)
        )
        scenarios.ensure_default_scenarios(session)
        holder = citizen_id()
        registry_service.create_person(
            session, data=PersonCreate.model_validate(person_body(holder)), actor=SYSTEM
        )
        registry_photos.put_photo(
            session, id_number=holder, data=portraits.demo_portrait(2), actor=SYSTEM
        )
        _card, _ecard, copy = signed(session, SYSTEM, f"BK{tag}", holder, f"CH{tag}")
        return int(copy.id)


def _attempt(text: str, actor: Actor, barrier: threading.Barrier, results: list[str]) -> None:
    barrier.wait()
    try:
        with acting(actor), db.transaction() as session:
            codes_service.verify_code(
                session, text=text, business=None, scenario_code="library", actor=actor
            )
        results.append("accepted")
    except SSCardError as refused:
        results.append(refused.code)


def test_the_same_code_presented_by_eight_terminals_at_once_is_accepted_exactly_once(
    copy_id: int, guard_backend: str
) -> None:
    for _ in range(5):
        with db.transaction() as session:
            copy = session.get(Copy, copy_id)
            assert copy is not None
            text = codes_service.issue_code(session, copy=copy).code
        results: list[str] = []
        barrier = threading.Barrier(len(TERMINALS))
        threads = [
            threading.Thread(target=_attempt, args=(text, t, barrier, results)) for t in TERMINALS
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == ["accepted"] + ["code_already_used"] * 7, (guard_backend, results)
