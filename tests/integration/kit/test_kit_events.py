"""The event bus inside a real unit of work: order, atomicity, nesting, loops."""

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sscard import db
from sscard.kit import events, outbox
from sscard.kit.errors import EventLoopDetected, UnitOfWorkAborted
from sscard.kit.events import Event
from sscard.kit.guard import DatabaseGuard
from sscard.kit.outbox import OutboxMessage

pytestmark = pytest.mark.usefixtures("clean_kit", "private_bus")


@dataclass(frozen=True)
class CardReportedLost(Event):
    name = "test_kit.card_reported_lost"
    card_no: str


@dataclass(frozen=True)
class ECardSuspended(Event):
    name = "test_kit.ecard_suspended"
    card_no: str


@dataclass(frozen=True)
class Ping(Event):
    name = "test_kit.ping"


class Refused(Exception):
    pass


def _messages(destination: str) -> int:
    with db.transaction() as session:
        query = select(func.count()).where(OutboxMessage.destination == destination)
        return int(session.execute(query).scalar_one())


def _report_loss(session: Session, card_no: str) -> None:
    """What the issuance service does: record the change, then announce it."""
    outbox.enqueue(session, destination="province", payload={"card_no": card_no}, key=card_no)
    events.publish(session, CardReportedLost(card_no))


def test_handlers_run_in_subscription_order_inside_the_publishers_transaction() -> None:
    calls: list[str] = []

    def suspend_ecard(session: Session, event: CardReportedLost) -> None:
        assert session.in_transaction()
        query = select(OutboxMessage.idempotency_key).where(OutboxMessage.destination == "province")
        calls.append(f"ecard sees {session.execute(query).scalar_one()}")

    def notify_bank(session: Session, event: CardReportedLost) -> None:
        outbox.enqueue(session, destination="bank", payload={"card_no": event.card_no})
        calls.append("bank")

    events.subscribe(CardReportedLost, suspend_ecard)
    events.subscribe(CardReportedLost, notify_bank)
    with db.transaction() as session:
        _report_loss(session, "A12345678")
        assert [e.name for e in events.published(session)] == ["test_kit.card_reported_lost"]
    assert calls == ["ecard sees A12345678", "bank"]
    assert _messages("province") == 1 and _messages("bank") == 1


def test_a_failing_handler_rolls_back_the_publishers_writes_and_the_earlier_handlers() -> None:
    def notify_bank(session: Session, event: CardReportedLost) -> None:
        outbox.enqueue(session, destination="bank", payload={"card_no": event.card_no})

    def refuse(session: Session, event: CardReportedLost) -> None:
        raise Refused("the e-card cannot be suspended")

    events.subscribe(CardReportedLost, notify_bank)
    events.subscribe(CardReportedLost, refuse)
    with pytest.raises(Refused), db.transaction() as session:
        _report_loss(session, "A12345678")
    assert _messages("province") == 0 and _messages("bank") == 0


def test_a_swallowed_handler_failure_still_prevents_the_commit() -> None:
    def refuse(session: Session, event: CardReportedLost) -> None:
        raise Refused("no")

    events.subscribe(CardReportedLost, refuse)
    with pytest.raises(UnitOfWorkAborted), db.transaction() as session:
        try:
            _report_loss(session, "A12345678")
        except Refused:
            pass
    assert _messages("province") == 0


def test_events_published_by_handlers_run_depth_first_in_the_same_transaction() -> None:
    calls: list[str] = []

    def suspend_ecard(session: Session, event: CardReportedLost) -> None:
        calls.append("suspend")
        events.publish(session, ECardSuspended(event.card_no))
        calls.append("suspend done")

    def claim_on_suspension(session: Session, event: ECardSuspended) -> None:
        assert DatabaseGuard(session).claim(f"suspended:{event.card_no}", 60)
        calls.append("claimed")

    def audit(session: Session, event: CardReportedLost) -> None:
        calls.append("audit")

    events.subscribe(CardReportedLost, suspend_ecard)
    events.subscribe(ECardSuspended, claim_on_suspension)
    events.subscribe(CardReportedLost, audit)
    with db.transaction() as session:
        _report_loss(session, "A12345678")
        names = [e.name for e in events.published(session)]
    assert calls == ["suspend", "claimed", "suspend done", "audit"]
    assert names == ["test_kit.card_reported_lost", "test_kit.ecard_suspended"]
    with db.transaction() as session:
        assert not DatabaseGuard(session).claim("suspended:A12345678", 60)


def test_a_handler_that_republishes_its_own_event_is_stopped_as_a_loop() -> None:
    def echo(session: Session, event: Ping) -> None:
        events.publish(session, Ping())

    events.subscribe(Ping, echo)
    with pytest.raises(EventLoopDetected) as caught, db.transaction() as session:
        outbox.enqueue(session, destination="bank", payload={})
        events.publish(session, Ping())
    assert caught.value.message.count("test_kit.ping") == events.MAX_DEPTH + 1
    assert _messages("bank") == 0


def test_the_list_of_published_events_belongs_to_one_transaction(session: Session) -> None:
    events.publish(session, Ping())
    assert len(events.published(session)) == 1
    session.rollback()
    assert events.published(session) == []
