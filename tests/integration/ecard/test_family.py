"""Family service (亲情服务) against a real database: minors at once, elders with consent,
the limit, proxy codes at terminals, no payment, unbinding revokes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.integration.ecard.test_online_support import (
    TERMINAL,
    Holder,
    app_channel,
    holder,
    signer,
    wallet,
)

from sscard.ecard import service as ecard_service
from sscard.ecard.codes import service as codes_service
from sscard.ecard.errors import CardRevoked, CodeAlreadyUsed, CodeInvalid
from sscard.ecard.family import rules as family_rules
from sscard.ecard.family import service as family
from sscard.ecard.family.errors import (
    FamilyBindingExists,
    FamilyBindingNotFound,
    FamilyLimitReached,
    FamilyRefused,
    ProxyPaymentRefused,
)
from sscard.ecard.family.schemas import FamilyBindIn
from sscard.ecard.models import Copy, Revocation
from sscard.ecard.schemas import ResidentSessionOut
from sscard.kit.context import Actor
from sscard.settings import reset_settings

__all__ = ["app_channel", "holder", "signer", "wallet"]

Wallet = Callable[[Holder], ResidentSessionOut]


def _bind(session: Session, guardian: ResidentSessionOut, member: Holder, **extra: object):  # type: ignore[no-untyped-def]
    data = FamilyBindIn(member_id_number=member.id_number, member_name="测试人员", **extra)  # type: ignore[arg-type]
    return family.bind(session, guardian=guardian, data=data)


def test_the_age_rules_come_from_the_id_number() -> None:
    assert family_rules.birth_date_from_id("370811201203150017") == date(2012, 3, 15)
    assert family_rules.birth_date_from_id("37081120121315001X") is None
    assert family_rules.birth_date_from_id("3708111") is None
    assert family_rules.age_on(date(2008, 6, 2), date(2026, 6, 1)) == 17
    assert family_rules.age_on(date(2008, 6, 1), date(2026, 6, 1)) == 18
    assert [family_rules.relation_for(a) for a in (0, 17, 18, 59, 60, 95)] == [
        "minor",
        "minor",
        None,
        None,
        "elder",
        "elder",
    ]
    assert [family_rules.proxy_may(b) for b in (1, 2, 3, 4)] == [True, False, True, True]


def test_a_minor_is_bound_at_once_and_a_terminal_sees_a_proxy_code(
    session: Session, holder: Callable[..., Holder], wallet: Wallet
) -> None:
    parent, child = holder(40), holder(9)
    guardian = wallet(parent)
    binding = _bind(session, guardian, child)
    assert (binding.status, binding.relation, binding.consent) == ("active", "minor", "by_age")
    proxy = session.scalars(
        select(Copy).where(Copy.holder_person_id == parent.person_id, Copy.proxy.is_(True))
    ).one()
    assert proxy.ecard_id == child.ecard.id and proxy.channel_code == guardian.channel_code
    code = family.issue_proxy_code(session, guardian=guardian, binding_id=binding.id, business=1)
    seen = codes_service.verify_code(
        session, text=code.code, business=1, scenario_code="library", actor=TERMINAL
    )
    assert seen.valid and seen.proxy is True
    with pytest.raises(CodeAlreadyUsed):
        codes_service.verify_code(
            session, text=code.code, business=1, scenario_code="library", actor=TERMINAL
        )
    own = codes_service.issue_code(session, copy=ecard_service.own_copy(session, resident=guardian))
    assert (
        codes_service.verify_code(
            session, text=own.code, business=None, scenario_code="library", actor=TERMINAL
        ).proxy
        is False
    )
    listed = [
        family.member_out(session, b)
        for b in family.members(session, guardian_person_id=parent.person_id)
    ]
    assert [(m.id, m.member_name, m.status) for m in listed] == [(binding.id, "测***", "active")]
    assert (
        listed[0].member_id_number.startswith(child.id_number[:6])
        and "*" in listed[0].member_id_number
    )


def test_a_proxy_may_not_pay_neither_when_asking_nor_at_a_terminal(
    session: Session, holder: Callable[..., Holder], wallet: Wallet
) -> None:
    parent, child = holder(35), holder(5)
    guardian = wallet(parent)
    binding = _bind(session, guardian, child)
    with pytest.raises(ProxyPaymentRefused) as refused:
        family.issue_proxy_code(session, guardian=guardian, binding_id=binding.id, business=2)
    assert refused.value.message == "亲情服务（代办）二维码不能用于支付"
    proxy = family.proxy_copy(session, binding=binding, channel_code=guardian.channel_code)
    forged = codes_service.issue_code(session, copy=proxy, business=2)
    with pytest.raises(CodeInvalid):
        codes_service.verify_code(
            session, text=forged.code, business=2, scenario_code="pharmacy", actor=TERMINAL
        )


def test_an_elder_is_pending_until_consent_in_the_elders_own_wallet(
    session: Session, holder: Callable[..., Holder], wallet: Wallet
) -> None:
    son, mother = holder(45), holder(72)
    guardian, elder = wallet(son), wallet(mother)
    binding = _bind(session, guardian, mother, relation="elder")
    assert (binding.status, binding.consent) == ("pending", "awaiting")
    with pytest.raises(FamilyRefused):
        family.issue_proxy_code(session, guardian=guardian, binding_id=binding.id)
    asked = family.requests_for(session, member_person_id=mother.person_id)
    assert [family.request_out(session, b).guardian_name for b in asked] == ["测***"]
    family.consent(session, member_person_id=elder.person_id, binding_id=binding.id)
    assert (binding.status, binding.consent) == ("active", "member_ecard")
    code = family.issue_proxy_code(session, guardian=guardian, binding_id=binding.id, business=4)
    seen = codes_service.verify_code(
        session, text=code.code, business=4, scenario_code="hospital", actor=TERMINAL
    )
    assert seen.proxy is True and seen.holder["id_number"] == mother.id_number


def test_a_clerk_records_an_elders_consent_at_the_counter(
    session: Session, holder: Callable[..., Holder], wallet: Wallet, signer: Actor
) -> None:
    daughter, father = holder(50), holder(80)
    binding = _bind(session, wallet(daughter), father)
    found = family.bindings_of_member(session, id_number=father.id_number, actor=signer)
    assert [b.id for b in found] == [binding.id]
    family.counter_consent(session, binding_id=binding.id, actor=signer)
    assert (binding.status, binding.consent) == ("active", "counter")
    with pytest.raises(FamilyRefused):
        family.counter_consent(session, binding_id=binding.id, actor=signer)


def test_an_elder_may_refuse_and_may_later_withdraw(
    session: Session, holder: Callable[..., Holder], wallet: Wallet
) -> None:
    son, mother = holder(40), holder(66)
    guardian, elder = wallet(son), wallet(mother)
    first = _bind(session, guardian, mother)
    family.refuse(session, member_person_id=elder.person_id, binding_id=first.id)
    assert (first.status, first.consent) == ("ended", "refused")
    second = _bind(session, guardian, mother)
    family.consent(session, member_person_id=elder.person_id, binding_id=second.id)
    code = family.issue_proxy_code(session, guardian=guardian, binding_id=second.id)
    family.refuse(session, member_person_id=elder.person_id, binding_id=second.id)
    assert second.status == "ended"
    with pytest.raises(CardRevoked):
        codes_service.verify_code(
            session, text=code.code, business=None, scenario_code="library", actor=TERMINAL
        )


def test_unbinding_revokes_the_proxy_copy_and_binding_again_restores_it(
    session: Session, holder: Callable[..., Holder], wallet: Wallet
) -> None:
    parent, child = holder(30), holder(3)
    guardian = wallet(parent)
    binding = _bind(session, guardian, child)
    code = family.issue_proxy_code(session, guardian=guardian, binding_id=binding.id)
    family.unbind(session, guardian_person_id=parent.person_id, binding_id=binding.id)
    proxy = session.scalars(
        select(Copy).where(Copy.holder_person_id == parent.person_id, Copy.proxy.is_(True))
    ).one()
    assert proxy.status == "revoked"
    changes = session.scalars(select(Revocation.status).where(Revocation.copy_id == proxy.id))
    assert list(changes) == ["revoked"]
    with pytest.raises(CardRevoked):
        codes_service.verify_code(
            session, text=code.code, business=None, scenario_code="library", actor=TERMINAL
        )
    with pytest.raises(FamilyBindingNotFound):
        family.issue_proxy_code(session, guardian=guardian, binding_id=binding.id)
    again = _bind(session, guardian, child)
    assert proxy.status == "active"
    fresh = family.issue_proxy_code(session, guardian=guardian, binding_id=again.id)
    assert codes_service.verify_code(
        session, text=fresh.code, business=None, scenario_code="library", actor=TERMINAL
    ).proxy


@pytest.fixture
def at_most_two(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SSCARD_ECARD_FAMILY_MAX", "2")
    reset_settings()
    yield
    monkeypatch.delenv("SSCARD_ECARD_FAMILY_MAX")
    reset_settings()


def test_a_guardian_holds_at_most_the_configured_number(
    session: Session, holder: Callable[..., Holder], wallet: Wallet, at_most_two: None
) -> None:
    parent = holder(38)
    guardian = wallet(parent)
    _bind(session, guardian, holder(4))
    _bind(session, guardian, holder(70))
    with pytest.raises(FamilyLimitReached) as refused:
        _bind(session, guardian, holder(8))
    assert refused.value.message == "亲情服务最多绑定 2 位家庭成员"


def test_who_may_be_bound(session: Session, holder: Callable[..., Holder], wallet: Wallet) -> None:
    parent, child, adult = holder(40), holder(12), holder(30)
    guardian = wallet(parent)
    with pytest.raises(FamilyRefused) as adult_refused:
        _bind(session, guardian, adult)
    assert "未满 18 周岁" in adult_refused.value.message
    with pytest.raises(FamilyRefused) as wrong_name:
        family.bind(
            session,
            guardian=guardian,
            data=FamilyBindIn(member_id_number=child.id_number, member_name="别人"),
        )
    with pytest.raises(FamilyRefused) as unknown:
        family.bind(
            session,
            guardian=guardian,
            data=FamilyBindIn(member_id_number="11010519491231002X", member_name="测试人员"),
        )
    assert wrong_name.value.message == unknown.value.message
    with pytest.raises(FamilyRefused):
        _bind(session, guardian, child, relation="elder")
    with pytest.raises(FamilyRefused, match="不能绑定本人"):
        _bind(session, guardian, parent)
    _bind(session, guardian, child)
    with pytest.raises(FamilyBindingExists):
        _bind(session, guardian, child)
    with pytest.raises(FamilyRefused, match="年满 18 周岁"):
        _bind(session, wallet(child), holder(2))


@pytest.mark.redis
def test_a_proxy_code_is_single_use_with_redis_too(
    session: Session,
    holder: Callable[..., Holder],
    wallet: Wallet,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parent, child = holder(33), holder(6)
    guardian = wallet(parent)
    binding = _bind(session, guardian, child)
    monkeypatch.setenv("SSCARD_REDIS_URL", redis_url)
    reset_settings()
    try:
        code = family.issue_proxy_code(session, guardian=guardian, binding_id=binding.id)
        assert codes_service.verify_code(
            session, text=code.code, business=None, scenario_code="park", actor=TERMINAL
        ).proxy
        with pytest.raises(CodeAlreadyUsed):
            codes_service.verify_code(
                session, text=code.code, business=None, scenario_code="park", actor=TERMINAL
            )
    finally:
        monkeypatch.delenv("SSCARD_REDIS_URL")
        reset_settings()
