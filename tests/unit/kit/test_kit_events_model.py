from dataclasses import FrozenInstanceError, dataclass
from datetime import UTC, datetime
from enum import StrEnum

import pytest
from sqlalchemy.orm import Session

from sscard.kit import events
from sscard.kit.events import Event


class Reason(StrEnum):
    lost = "lost"


@dataclass(frozen=True)
class CardReportedLost(Event):
    name = "test_unit.card_reported_lost"
    card_no: str
    reason: Reason = Reason.lost


@dataclass(frozen=True)
class CardEvent(Event, abstract=True):
    card_no: str


@dataclass(frozen=True)
class CardCancelled(CardEvent):
    name = "test_unit.card_cancelled"


def test_an_event_is_an_immutable_fact_with_a_time() -> None:
    event = CardReportedLost("A12345678")
    assert event.occurred_at.tzinfo is UTC
    with pytest.raises(FrozenInstanceError):
        event.card_no = "B"  # type: ignore[misc]


def test_an_event_gives_a_json_friendly_dict() -> None:
    when = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    event = CardReportedLost("A12345678", occurred_at=when)
    assert event.as_dict() == {
        "event": "test_unit.card_reported_lost",
        "card_no": "A12345678",
        "reason": "lost",
        "occurred_at": "2026-11-25T08:00:00+00:00",
    }


def test_an_event_class_without_a_name_is_refused() -> None:
    with pytest.raises(TypeError, match="stable `name`"):

        @dataclass(frozen=True)
        class Nameless(Event):
            pass


def test_two_event_classes_cannot_share_a_name() -> None:
    with pytest.raises(TypeError, match="already used"):

        @dataclass(frozen=True)
        class Impostor(Event):
            name = "test_unit.card_reported_lost"


def test_a_handler_of_a_family_receives_every_member_in_subscription_order() -> None:
    def family(session: Session, event: CardEvent) -> None: ...

    def exact(session: Session, event: CardCancelled) -> None: ...

    with events.subscriptions():
        events.subscribe(CardEvent, family)
        events.subscribe(CardCancelled, exact)
        events.subscribe(CardCancelled, exact)
        assert events.handlers_for(CardCancelled) == [family, exact]
        assert events.handlers_for(CardReportedLost) == []


def test_scoped_subscriptions_are_forgotten_after_the_block() -> None:
    def handler(session: Session, event: CardReportedLost) -> None: ...

    before = events.handlers_for(CardReportedLost)
    with events.subscriptions(keep_existing=True):
        events.subscribe(CardReportedLost, handler)
        assert events.handlers_for(CardReportedLost) == [*before, handler]
    assert events.handlers_for(CardReportedLost) == before


def test_publishing_without_a_database_still_runs_handlers_and_lists_the_event() -> None:
    seen: list[str] = []
    session = Session()
    with events.subscriptions():
        events.subscribe(CardReportedLost, lambda s, e: seen.append(e.card_no))
        event = CardReportedLost("A12345678")
        events.publish(session, event)
    assert seen == ["A12345678"]
    assert events.published(session) == [event]
