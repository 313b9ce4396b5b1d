"""The outbox on a real database: idempotent enqueue, delivery after commit, retries with
backoff, dead letters, expired leases and concurrent workers."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from sscard import db
from sscard.db import utcnow
from sscard.kit import outbox
from sscard.kit.errors import (
    OutboxMessageNotDead,
    OutboxMessageNotFound,
    OutboxPayloadInvalid,
    PermanentFailure,
)
from sscard.kit.outbox import Message, MessageStatus

pytestmark = pytest.mark.usefixtures("private_bus")


class Recorder:
    """A destination handler that remembers every attempt and can be told to fail."""

    def __init__(self, *, fail: BaseException | None = None) -> None:
        self.fail = fail
        self.calls: list[Message] = []
        self.lock = threading.Lock()

    def __call__(self, message: Message) -> None:
        with self.lock:
            self.calls.append(message)
        if self.fail is not None:
            raise self.fail

    @property
    def ids(self) -> Counter[int]:
        return Counter(m.id for m in self.calls)


class Crash(BaseException):
    """Stands for a worker process dying in the middle of a delivery."""


def _enqueue(destination: str = "bank", **payload: object) -> int:
    with db.transaction() as session:
        return outbox.enqueue(session, destination=destination, payload=payload or {"n": 1})


def _message(message_id: int) -> outbox.OutboxMessage:
    with db.transaction() as session:
        return outbox.get_message(session, message_id)


def test_enqueueing_the_same_key_twice_gives_the_same_message(session: Session) -> None:
    first = outbox.enqueue(session, destination="bank", payload={"a": 1}, key="loss:A1")
    again = outbox.enqueue(session, destination="bank", payload={"a": 2}, key="loss:A1")
    other = outbox.enqueue(session, destination="province", payload={"a": 1}, key="loss:A1")
    keyless = [outbox.enqueue(session, destination="bank", payload={}) for _ in range(2)]
    assert first == again
    assert len({first, other, *keyless}) == 4
    assert outbox.get_message(session, first).payload == {"a": 1}
    assert outbox.counts_by_status(session)["pending"] == 4


def test_a_payload_that_is_not_json_is_refused(session: Session) -> None:
    with pytest.raises(OutboxPayloadInvalid):
        outbox.enqueue(session, destination="bank", payload={"at": utcnow()})


@pytest.mark.usefixtures("clean_kit")
def test_a_message_of_a_rolled_back_transaction_is_never_delivered() -> None:
    bank = Recorder()
    outbox.register_destination("bank", bank)
    with pytest.raises(RuntimeError), db.transaction() as session:
        outbox.enqueue(session, destination="bank", payload={"card_no": "A1"}, key="k")
        raise RuntimeError("the card could not be reported lost")
    assert outbox.deliver_due().claimed == 0
    assert bank.calls == []


@pytest.mark.usefixtures("clean_kit")
def test_a_committed_message_is_delivered_once_with_its_payload_and_key() -> None:
    bank = Recorder()
    outbox.register_destination("bank", bank)
    with db.transaction() as session:
        message_id = outbox.enqueue(
            session, destination="bank", payload={"card_no": "A1"}, key="loss:A1"
        )
    report = outbox.deliver_due()
    assert (report.claimed, report.delivered) == (1, 1)
    assert [(m.id, m.payload, m.attempt, m.key) for m in bank.calls] == [
        (message_id, {"card_no": "A1"}, 1, "loss:A1")
    ]
    stored = _message(message_id)
    assert stored.status == MessageStatus.delivered and stored.delivered_at is not None
    assert outbox.deliver_due().claimed == 0


@pytest.mark.usefixtures("clean_kit")
def test_a_delayed_message_waits_and_unknown_destinations_are_left_alone() -> None:
    bank = Recorder()
    outbox.register_destination("bank", bank)
    with db.transaction() as session:
        outbox.enqueue(session, destination="bank", payload={}, delay_seconds=30)
        outbox.enqueue(session, destination="nobody-delivers-this", payload={})
    assert outbox.deliver_due().claimed == 0
    assert outbox.deliver_due(now=utcnow() + timedelta(seconds=31)).delivered == 1


@pytest.mark.usefixtures("clean_kit")
def test_failures_are_retried_with_growing_delays_then_dead_lettered_and_retried_by_hand() -> None:
    bank = Recorder(fail=ConnectionError("bank refused 37080219900101123X"))
    outbox.register_destination("bank", bank, max_attempts=5, base_delay_seconds=2)
    message_id = _enqueue()
    now = utcnow()
    delays: list[float] = []
    for attempt in range(1, 6):
        report = outbox.deliver_due(now=now)
        assert report.claimed == 1, attempt
        stored = _message(message_id)
        if attempt < 5:
            assert report.retried == 1 and stored.status == MessageStatus.pending
            delay = (stored.next_attempt_at - now).total_seconds()
            assert 2 ** (attempt - 1) <= delay <= 2**attempt
            delays.append(delay)
            assert (
                outbox.deliver_due(now=stored.next_attempt_at - timedelta(seconds=0.5)).claimed == 0
            )
            now = stored.next_attempt_at
    assert delays == sorted(delays)
    assert report.dead == 1 and stored.status == MessageStatus.dead and stored.attempts == 5
    assert stored.last_error == "ConnectionError: bank refused 370802********123X"
    assert [m.attempt for m in bank.calls] == [1, 2, 3, 4, 5]
    assert outbox.deliver_due(now=now + timedelta(days=1)).claimed == 0

    with db.transaction() as session:
        outbox.retry_dead(session, message_id)
    bank.fail = None
    assert outbox.deliver_due().delivered == 1
    assert bank.calls[-1].attempt == 1
    assert _message(message_id).status == MessageStatus.delivered


@pytest.mark.usefixtures("clean_kit")
def test_a_permanent_failure_is_dead_lettered_at_once() -> None:
    outbox.register_destination("bank", Recorder(fail=PermanentFailure("account closed")))
    message_id = _enqueue()
    assert outbox.deliver_due().dead == 1
    assert _message(message_id).attempts == 1


def test_only_dead_messages_are_retried_by_hand(session: Session) -> None:
    message_id = outbox.enqueue(session, destination="bank", payload={})
    with pytest.raises(OutboxMessageNotDead):
        outbox.retry_dead(session, message_id)
    with pytest.raises(OutboxMessageNotFound):
        outbox.retry_dead(session, message_id + 1000)


@pytest.mark.usefixtures("clean_kit")
def test_a_message_whose_worker_died_is_claimed_again_after_its_lease() -> None:
    outbox.register_destination("bank", Recorder(fail=Crash()))
    message_id = _enqueue()
    start = utcnow()
    with pytest.raises(Crash):
        outbox.deliver_due(now=start, lease_seconds=60)
    assert _message(message_id).status == MessageStatus.in_flight

    bank = Recorder()
    with outbox.destinations():
        outbox.register_destination("bank", bank)
        assert outbox.deliver_due(now=start + timedelta(seconds=59)).claimed == 0
        assert outbox.deliver_due(now=start + timedelta(seconds=61)).delivered == 1
    assert [m.attempt for m in bank.calls] == [2]


@pytest.mark.usefixtures("clean_kit")
def test_a_message_that_keeps_killing_its_worker_ends_up_dead() -> None:
    outbox.register_destination("bank", Recorder(fail=Crash()), max_attempts=2)
    message_id = _enqueue()
    now = utcnow()
    for _ in range(2):
        with pytest.raises(Crash):
            outbox.deliver_due(now=now, lease_seconds=10)
        now += timedelta(seconds=11)
    report = outbox.deliver_due(now=now)
    assert report.dead == 1
    assert "lease expired" in (_message(message_id).last_error or "")


@pytest.mark.usefixtures("clean_kit")
def test_a_worker_that_outlives_its_lease_does_not_overwrite_the_new_claim() -> None:
    calls: list[int] = []
    message_id = _enqueue()
    start = utcnow()

    def slow_bank(message: Message) -> None:
        calls.append(message.attempt)
        if message.attempt == 1:
            later = outbox.deliver_due(now=start + timedelta(seconds=11), worker_id="second")
            assert later.delivered == 1

    outbox.register_destination("bank", slow_bank)
    report = outbox.deliver_due(now=start, lease_seconds=10, worker_id="first")
    assert (report.claimed, report.lost, report.delivered) == (1, 1, 0)
    assert calls == [1, 2]
    assert _message(message_id).lease_owner.startswith("second/")


@pytest.mark.usefixtures("clean_kit")
def test_a_stopping_worker_hands_back_the_messages_it_has_not_tried() -> None:
    stop = threading.Event()

    def bank(message: Message) -> None:
        stop.set()

    outbox.register_destination("bank", bank)
    ids = [_enqueue() for _ in range(3)]
    report = outbox.deliver_due(stop=stop)
    assert (report.claimed, report.delivered, report.released) == (3, 1, 2)
    with db.transaction() as session:
        waiting = outbox.list_messages(session, status="pending")
    assert sorted(m.id for m in waiting) == ids[1:]
    assert all(m.attempts == 0 for m in waiting)


@pytest.mark.usefixtures("clean_kit")
def test_two_concurrent_workers_never_deliver_the_same_message_twice() -> None:
    bank = Recorder()
    outbox.register_destination("bank", bank)
    with db.transaction() as session:
        ids = [outbox.enqueue(session, destination="bank", payload={"n": n}) for n in range(300)]
    gate = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            gate.wait()
            while outbox.deliver_due(limit=25, worker_id=name).claimed:
                pass
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert bank.ids == Counter(dict.fromkeys(ids, 1))
    assert {m.attempt for m in bank.calls} == {1}
    with db.transaction() as session:
        assert outbox.counts_by_status(session) == {
            "pending": 0,
            "in_flight": 0,
            "delivered": 300,
            "dead": 0,
        }


@pytest.mark.usefixtures("clean_kit")
def test_messages_are_listed_newest_first_and_old_deliveries_purged() -> None:
    outbox.register_destination("bank", Recorder())
    first, second = _enqueue(), _enqueue(destination="province")
    outbox.deliver_due()
    with db.transaction() as session:
        assert [m.id for m in outbox.list_messages(session)] == [second, first]
        assert [m.id for m in outbox.list_messages(session, destination="bank")] == [first]
        assert outbox.list_messages(session, status=MessageStatus.dead) == []
        assert outbox.purge_delivered(session) == 0
        later = utcnow() + timedelta(days=8)
        assert outbox.purge_delivered(session, now=later) == 1
        assert outbox.counts_by_status(session) == {
            "pending": 1,
            "in_flight": 0,
            "delivered": 0,
            "dead": 0,
        }


@pytest.mark.usefixtures("clean_kit")
def test_the_worker_loop_delivers_until_it_is_stopped() -> None:
    stop = threading.Event()
    delivered = threading.Event()
    housekeeping: list[int] = []

    def bank(message: Message) -> None:
        delivered.set()

    outbox.register_destination("bank", bank)
    worker = threading.Thread(
        target=outbox.run_worker,
        args=(stop, 0.05),
        kwargs={"housekeeping": lambda: housekeeping.append(1)},
    )
    worker.start()
    _enqueue()
    assert delivered.wait(10)
    stop.set()
    worker.join(10)
    assert not worker.is_alive()
    assert housekeeping == [1]
