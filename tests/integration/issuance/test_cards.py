import secrets
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session
from tests.integration.cards import _active, _apply, _made

from sscard.db import utcnow
from sscard.errors import ValidationFailed
from sscard.issuance.batches.models import Failure
from sscard.issuance.cards import (
    application_service,
    handover_service,
    making_service,
    number_service,
    service,
    stats_service,
)
from sscard.issuance.cards.errors import (
    ActiveCardExists,
    ApplicationRefused,
    CardNotFound,
    NumbersExhausted,
    PinIncorrect,
    PinLocked,
    RestoreRefused,
    TransitionNotAllowed,
)
from sscard.issuance.cards.schemas import HandoverIn, RangeIn, ReplacementIn
from sscard.issuance.events import CardStatusChanged
from sscard.kit import events, outbox
from sscard.kit.context import Actor
from sscard.registry import fakes
from sscard.registry.units import service as registry_units
from sscard.registry.units.schemas import CommunityCreate, EmployerCreate

Person = Callable[..., str]


def test_an_application_needs_a_live_registered_person_with_a_photo(
    session: Session, clerk: Actor, bank: str, person: Person
) -> None:
    without_photo = person(photo=False)
    with pytest.raises(ApplicationRefused) as refused:
        _apply(session, clerk, bank, without_photo)
    assert refused.value.fields[0].field == "photo"
    card = _apply(session, clerk, bank, person())
    assert card.status == "applied" and card.region_code == "370800"


def test_a_person_never_has_two_live_cards(
    session: Session, clerk: Actor, bank: str, person: Person
) -> None:
    holder = person()
    _apply(session, clerk, bank, holder)
    with pytest.raises(ActiveCardExists):
        _apply(session, clerk, bank, holder)


def test_the_chosen_bank_must_be_a_bank(session: Session, clerk: Actor, person: Person) -> None:
    from sscard.iam import service as iam_service

    hall = iam_service.ensure_platform_institution(session).code
    with pytest.raises(ApplicationRefused) as refused:
        _apply(session, clerk, hall, person())
    assert refused.value.fields[0].field == "bank_code"


def test_numbers_come_from_ranges_in_order_and_run_out_clearly(
    session: Session, clerk: Actor
) -> None:
    number_service.add_range(
        session, data=RangeIn(region_code="379900", prefix="Z", start=7, end=9)
    )
    assert number_service.allocate_numbers(session, region_code="379900", count=2) == [
        "Z00000007",
        "Z00000008",
    ]
    with pytest.raises(NumbersExhausted) as refused:
        number_service.allocate_numbers(session, region_code="379900", count=2)
    assert "还需 1 个" in refused.value.message


def test_a_card_is_made_issued_activated_reported_lost_and_unlocked_with_a_timeline(
    session: Session, clerk: Actor, bank: str, person: Person, numbers: None
) -> None:
    seen: list[CardStatusChanged] = []
    with events.subscriptions(keep_existing=True):
        events.subscribe(CardStatusChanged, lambda _s, e: seen.append(e))
        card = _active(session, clerk, bank, person())
        service.report_loss(session, card_ref=card.card_number or "", temporary=False, actor=clerk)
        service.unlock(session, card_ref=card.card_number or "", actor=clerk)
    assert card.status == "active" and card.bank_account_masked == "621700*********0123"
    assert making_service.bank_account(session, card=card) == "6217001234567890123"
    assert [e.to_status for e in seen][-3:] == ["active", "lost", "active"]
    detail = service.card_detail(session, card)
    assert [e.action for e in detail.timeline][:3] == ["apply", "assign_number", "submit"]
    assert detail.timeline[-1].action_name == "解挂"


def test_a_cancelled_card_cannot_be_reported_lost(
    session: Session, clerk: Actor, bank: str, person: Person, numbers: None
) -> None:
    card = _active(session, clerk, bank, person())
    service.cancel(session, card_ref=card.id, reason="持卡人申请注销", actor=clerk)
    with pytest.raises(TransitionNotAllowed) as refused:
        service.report_loss(session, card_ref=card.id, temporary=True, actor=clerk)
    assert "已注销" in refused.value.message


def test_a_cancellation_is_restored_within_the_window_but_not_after_a_replacement(
    session: Session, clerk: Actor, bank: str, person: Person, numbers: None
) -> None:
    card = _active(session, clerk, bank, person())
    service.cancel(session, card_ref=card.id, reason="误操作", actor=clerk)
    assert service.restore(session, card_ref=card.id, actor=clerk).status == "active"
    new = application_service.replace(
        session, card_ref=card.id, data=ReplacementIn(reason="damaged"), actor=clerk
    )
    assert card.status == "cancelled" and new.status == "applied"
    assert new.replaces_card_id == card.id and card.replaced_by_card_id == new.id
    with pytest.raises(RestoreRefused):
        service.restore(session, card_ref=card.id, actor=clerk)


def test_a_temporary_loss_lapses_in_the_worker_housekeeping(
    session: Session, clerk: Actor, bank: str, person: Person, numbers: None
) -> None:
    card = _active(session, clerk, bank, person())
    recent = _active(session, clerk, bank, person())
    for lost in (card, recent):
        service.report_loss(session, card_ref=lost.id, temporary=True, actor=clerk)
    assert card.lost_at is not None
    card.lost_at = card.lost_at - timedelta(days=6)
    session.flush()
    chore = outbox.housekeeping_jobs()["temporary losses lapsed"]
    assert chore(session) >= 1
    assert card.status == "active"
    assert recent.status == "temporarily_lost"


def test_wrong_pins_lock_the_pin_and_a_counter_reset_unlocks_it(
    session: Session, clerk: Actor, bank: str, person: Person, numbers: None
) -> None:
    holder = person()
    card = _active(session, clerk, bank, holder)
    with pytest.raises(ValidationFailed):
        service.set_pin(session, card_ref=card.id, pin="123456", actor=clerk)
    service.set_pin(session, card_ref=card.id, pin="802417", actor=clerk)
    with pytest.raises(PinIncorrect):
        service.verify_pin(session, card=card, pin="000001")
    card.pin_failures = 3
    with pytest.raises(PinLocked):
        service.verify_pin(session, card=card, pin="802417")
    service.reset_pin(session, card_ref=card.id, id_number=holder, new_pin="730518", actor=clerk)
    service.verify_pin(session, card=card, pin="730518")
    assert card.pin_failures == 0


def test_a_box_handover_moves_every_card_and_issues_to_the_holder(
    session: Session, clerk: Actor, bank: str, person: Person, numbers: None
) -> None:
    from sscard.issuance.cards.models import Box

    cards = [_made(session, clerk, _apply(session, clerk, bank, person()), n) for n in range(3)]
    session.add(
        Box(
            code="BOX-T1",
            vendor_code="VENDOR-HD",
            card_count=3,
            location="VENDOR-HD",
            updated_at=cards[0].updated_at,
        )
    )
    for position, card in enumerate(cards, 1):
        card.box_code, card.box_position = "BOX-T1", position
    session.flush()
    handover_service.handover(
        session,
        data=HandoverIn(box_code="BOX-T1", to_place=bank, handler="卡商甲", receiver="网点乙"),
        actor=clerk,
    )
    assert {c.status for c in cards} == {"at_distribution_point"}
    assert {c.location for c in cards} == {bank}
    handover_service.handover(
        session,
        data=HandoverIn(
            card_number=cards[0].card_number, to_place="holder", handler="网点乙", receiver="持卡人"
        ),
        actor=clerk,
    )
    assert cards[0].status == "issued"
    assert [h.to_place for h in handover_service.handovers(session, card=cards[0])] == [
        bank,
        "holder",
    ]


def test_a_box_of_another_region_can_be_neither_read_nor_moved_by_a_clerk(
    session: Session, clerk: Actor, bank: str, person: Person, numbers: None
) -> None:
    from dataclasses import replace

    from sscard.issuance.cards.errors import BoxNotFound
    from sscard.issuance.cards.models import Box

    cards = [_made(session, clerk, _apply(session, clerk, bank, person()), n) for n in range(2)]
    session.add(
        Box(
            code="BOX-T2",
            vendor_code="VENDOR-HD",
            card_count=2,
            location="VENDOR-HD",
            updated_at=cards[0].updated_at,
        )
    )
    for position, card in enumerate(cards, 1):
        card.box_code, card.box_position = "BOX-T2", position
    session.flush()
    elsewhere = replace(clerk, id="far-clerk", institution_code="HALL-FAR", region_code="370100")
    with pytest.raises(BoxNotFound):
        handover_service.box_contents(session, box_code="BOX-T2", actor=elsewhere)
    with pytest.raises(BoxNotFound):
        handover_service.handover(
            session,
            data=HandoverIn(box_code="BOX-T2", to_place=bank, handler="甲", receiver="乙"),
            actor=elsewhere,
        )
    assert {c.location for c in cards} != {bank}
    shown = handover_service.box_contents(session, box_code="BOX-T2", actor=clerk)
    assert [c.id for c in shown] == [c.id for c in cards]


def test_every_card_operation_is_in_the_audit_log(
    session: Session, clerk: Actor, bank: str, person: Person, numbers: None
) -> None:
    from sqlalchemy import select

    from sscard.audit.models import AuditEntry

    card = _active(session, clerk, bank, person())
    service.report_loss(session, card_ref=card.id, temporary=False, actor=clerk)
    session.commit()
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.subject_id == card.id).order_by(AuditEntry.id)
    ).all()
    assert actions[0] == "card.apply" and actions[-1] == "card.report_loss"
    assert "card.activate" in actions


def test_card_holding_and_failures_are_counted_per_employer_and_community_with_names(
    session: Session, clerk: Actor, bank: str, person: Person, numbers: None
) -> None:
    fake = fakes.employers(secrets.randbelow(10**9), "370811", 1)[0]
    employer = registry_units.create_employer(
        session,
        data=EmployerCreate(
            credit_code=fake.credit_code, name=fake.name, region_code=fake.region_code
        ),
    )
    community = fakes.communities(secrets.randbelow(10**9), "370811", 400)[-1]
    code = community.code
    if registry_units.community_names(session, codes=[code]):
        code = fakes.communities(secrets.randbelow(10**9), "370811", 400)[-2].code
    registry_units.create_community(session, data=CommunityCreate(code=code, name="测试社区"))
    held = [
        _active(session, clerk, bank, person(employer_id=employer.id, community_code=code))
        for _ in range(2)
    ]
    failed = _apply(session, clerk, bank, person(employer_id=employer.id))
    service.report_loss(session, card_ref=held[1].id, temporary=False, actor=clerk)

    by_employer = {row.key: row for row in stats_service.holding(session, by="employer")}
    assert by_employer[str(employer.id)].count == 2
    assert by_employer[str(employer.id)].name == fake.name
    by_community = {row.key: row for row in stats_service.holding(session, by="community")}
    assert by_community[code].count == 2 and by_community[code].name == "测试社区"

    session.add(
        Failure(card_id=failed.id, stage="bank", reason="账户开立失败", created_at=utcnow())
    )
    session.flush()
    failures = {row.key: row.count for row in stats_service.failures_by(session, by="employer")}
    assert failures[str(employer.id)] == 1


def test_a_card_read_refused_by_scope_is_audited_with_the_holder_masked(
    session: Session, clerk: Actor, bank: str, person: Person, numbers: None
) -> None:
    from sscard.kit import access
    from sscard.kit.context import ActorKind

    holder = person()
    card = _active(session, clerk, bank, holder)
    other_bank = Actor(
        kind=ActorKind.operator,
        id="other-bank-agent",
        name="他行代理",
        institution_code="BKOTHER",
        institution_type="bank",
        region_code="370800",
        permissions=clerk.permissions,
    )
    access.drain(session)
    with pytest.raises(CardNotFound):
        service.get_card(session, card_ref=card.card_number or card.id, actor=other_bank)
    refused = [r for r in access.pending(session) if r.outcome == "denied"]
    assert [(r.action, r.subject_id) for r in refused] == [("card.read", card.person_id)]
    assert refused[0].subject_display == holder[:6] + "********" + holder[-4:]
    assert holder not in str(refused[0])
