"""Signing, codes and verification of the e-card against a real database."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session
from tests.integration.cards import _active
from tests.integration.conftest import PERMISSIONS

from sscard.ecard import service
from sscard.ecard.codes import service as codes_service
from sscard.ecard.errors import (
    CardRevoked,
    CardSuspended,
    CodeAlreadyUsed,
    CodeExpired,
    CodeInvalid,
    SigningRefused,
)
from sscard.ecard.schemas import RealPerson, SignIn
from sscard.iam import service as iam_service
from sscard.iam.catalog import ChannelType
from sscard.iam.schemas import ChannelCreate
from sscard.issuance.cards import service as issuance
from sscard.kit.context import Actor, ActorKind
from sscard.registry.photos import service as registry_photos
from sscard.scenarios import service as scenarios

TERMINAL = Actor(
    kind=ActorKind.terminal,
    id="LIB-GATE-1",
    name="图书馆闸机",
    permissions=frozenset({"ecard.verify"}),
)


@pytest.fixture
def signer(clerk: Actor) -> Actor:
    return Actor(
        **{
            **{f: getattr(clerk, f) for f in clerk.__slots__},
            "permissions": PERMISSIONS | {"ecard.sign"},
        }
    )


@pytest.fixture
def channel(session: Session) -> str:
    inst = iam_service.ensure_platform_institution(session).code
    iam_service.create_channel(
        session,
        data=ChannelCreate(
            code="T-APP", name="测试人社APP", type=ChannelType.hrss_app, owner_institution_code=inst
        ),
    )
    scenarios.ensure_default_scenarios(session)
    return "T-APP"


def _signed(session: Session, signer: Actor, bank: str, person: Callable[..., str], channel: str):  # type: ignore[no-untyped-def]
    holder = person()
    card = _active(session, signer, bank, holder)
    issuance.set_pin(session, card_ref=card.id, pin="802417", actor=signer)
    data = SignIn(
        id_number=holder,
        name="测试人员",
        card_number=card.card_number or "",
        card_pin=SecretStr("802417"),
        channel_code=channel,
        real_person=RealPerson(
            method="demo",
            image_base64=base64.b64encode(
                registry_photos.photo_bytes(session, person_id=card.person_id) or b""
            ).decode(),
        ),
        ecard_pin=SecretStr("246810"),
    )
    ecard, copy = service.sign(session, data=data, actor=signer)
    return holder, card, ecard, copy


def test_an_active_card_is_signed_and_its_code_is_verified_once(
    session: Session,
    signer: Actor,
    bank: str,
    person: Callable[..., str],
    numbers: None,
    channel: str,
) -> None:
    _, card, ecard, copy = _signed(session, signer, bank, person, channel)
    assert ecard.status == "active" and copy.channel_code == channel
    code = codes_service.issue_code(session, copy=copy, business=1)
    result = codes_service.verify_code(
        session, text=code.code, business=1, scenario_code="library", actor=TERMINAL
    )
    assert result.holder == {
        "name_masked": "测***",
        "card_valid": True,
        "age_band": result.holder["age_band"],
    }
    with pytest.raises(CodeAlreadyUsed):
        codes_service.verify_code(
            session, text=code.code, business=1, scenario_code="library", actor=TERMINAL
        )
    hospital = codes_service.verify_code(
        session,
        text=codes_service.issue_code(session, copy=copy).code,
        business=None,
        scenario_code="hospital",
        actor=TERMINAL,
    )
    assert hospital.holder["card_number"] == card.card_number
    assert len(hospital.holder["id_number"]) == 18


def test_the_copies_follow_the_card_lost_unlocked_cancelled(
    session: Session,
    signer: Actor,
    bank: str,
    person: Callable[..., str],
    numbers: None,
    channel: str,
) -> None:
    _, card, ecard, copy = _signed(session, signer, bank, person, channel)
    code = codes_service.issue_code(session, copy=copy)
    issuance.report_loss(session, card_ref=card.id, temporary=True, actor=signer)
    assert ecard.status == "suspended" and copy.status == "suspended"
    with pytest.raises(CardSuspended):
        codes_service.verify_code(
            session, text=code.code, business=None, scenario_code="library", actor=TERMINAL
        )
    issuance.unlock(session, card_ref=card.id, actor=signer, temporary=True)
    fresh = codes_service.issue_code(session, copy=copy)
    assert codes_service.verify_code(
        session, text=fresh.code, business=None, scenario_code="library", actor=TERMINAL
    ).valid
    issuance.cancel(session, card_ref=card.id, reason="测试注销", actor=signer)
    service.forget_states()
    with pytest.raises(CardRevoked):
        codes_service.issue_code(session, copy=copy)
    page = service.revocations(session, since=0)
    assert [r.status for r in page.items if r.copy_id == copy.id] == [
        "suspended",
        "active",
        "revoked",
    ]


def test_an_altered_stale_or_mismatched_code_is_refused(
    session: Session,
    signer: Actor,
    bank: str,
    person: Callable[..., str],
    numbers: None,
    channel: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, _, _, copy = _signed(session, signer, bank, person, channel)
    code = codes_service.issue_code(session, copy=copy, business=2).code
    altered = code[:-1] + ("A" if code[-1] != "A" else "B")
    with pytest.raises(CodeInvalid):
        codes_service.verify_code(
            session, text=altered, business=None, scenario_code="library", actor=TERMINAL
        )
    with pytest.raises(CodeInvalid):
        codes_service.verify_code(
            session, text=code, business=1, scenario_code="library", actor=TERMINAL
        )
    import time as real_time

    later = real_time.time() + 61
    monkeypatch.setattr(codes_service.time, "time", lambda: later)
    with pytest.raises(CodeExpired):
        codes_service.verify_code(
            session, text=code, business=None, scenario_code="library", actor=TERMINAL
        )


def test_signing_needs_the_right_name_and_card_pin(
    session: Session,
    signer: Actor,
    bank: str,
    person: Callable[..., str],
    numbers: None,
    channel: str,
) -> None:
    holder = person()
    card = _active(session, signer, bank, holder)
    issuance.set_pin(session, card_ref=card.id, pin="802417", actor=signer)
    base = {
        "id_number": holder,
        "card_number": card.card_number or "",
        "channel_code": channel,
        "real_person": RealPerson(method="counter"),
        "ecard_pin": SecretStr("246810"),
    }
    with pytest.raises(SigningRefused) as refused:
        service.sign(
            session, data=SignIn(name="别人", card_pin=SecretStr("802417"), **base), actor=signer
        )
    assert refused.value.fields[0].field == "name"
    from sscard.issuance.cards.errors import PinIncorrect

    with pytest.raises(PinIncorrect):
        service.sign(
            session,
            data=SignIn(name="测试人员", card_pin=SecretStr("000001"), **base),
            actor=signer,
        )
