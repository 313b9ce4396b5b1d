"""``sscard worker`` and ``sscard outbox list|show|retry`` against a real database."""

from __future__ import annotations

import os
import signal
import threading

import pytest
import typer
from typer.testing import CliRunner

from sscard import db
from sscard.cli import worker as worker_cli
from sscard.kit import outbox
from sscard.kit.errors import OutboxMessageNotFound, PermanentFailure
from sscard.kit.outbox import Message, MessageStatus

pytestmark = pytest.mark.usefixtures("clean_kit", "private_bus")

app = typer.Typer()
app.command("worker")(worker_cli.worker)
app.add_typer(worker_cli.outbox_app, name="outbox")
runner = CliRunner()


def _enqueue(**payload: object) -> int:
    with db.transaction() as session:
        return outbox.enqueue(session, destination="bank", payload=payload)


@pytest.mark.parametrize(
    "command", [["worker"], ["outbox"], ["outbox", "list"], ["outbox", "show"], ["outbox", "retry"]]
)
def test_every_command_explains_itself(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_worker_once_delivers_what_is_due_and_logs_no_payload(
    caplog: pytest.LogCaptureFixture,
) -> None:
    delivered: list[int] = []
    outbox.register_destination("bank", lambda message: delivered.append(message.id))
    message_id = _enqueue(id_number="37080219900101123X")
    with caplog.at_level("INFO", logger="sscard.kit.outbox"):
        result = runner.invoke(app, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "领取 1 条：送达 1" in result.output
    assert "例行维护：delivered messages purged" in result.output
    assert delivered == [message_id]
    assert f"outbox delivered id={message_id} destination=bank attempt=1" in caplog.messages
    assert "1123X" not in caplog.text


def test_dead_messages_are_listed_shown_masked_and_retried() -> None:
    def refuse(message: Message) -> None:
        raise PermanentFailure("account 6217001234567890123 is closed")

    outbox.register_destination("bank", refuse)
    message_id = _enqueue(id_number="37080219900101123X", phone="13812341234")
    assert runner.invoke(app, ["worker", "--once"]).exit_code == 0

    listed = runner.invoke(app, ["outbox", "list", "--status", "dead"])
    assert listed.exit_code == 0, listed.output
    assert str(message_id) in listed.output and "dead 1" in listed.output

    shown = runner.invoke(app, ["outbox", "show", str(message_id)])
    assert shown.exit_code == 0, shown.output
    assert "370802********123X" in shown.output and "138****1234" in shown.output
    assert "621700*********0123" in shown.output
    assert "19900101" not in shown.output

    retried = runner.invoke(app, ["outbox", "retry", str(message_id)])
    assert retried.exit_code == 0, retried.output
    with db.transaction() as session:
        assert outbox.get_message(session, message_id).status == MessageStatus.pending


def test_retrying_a_missing_message_is_a_platform_error() -> None:
    result = runner.invoke(app, ["outbox", "retry", "999999"])
    assert isinstance(result.exception, OutboxMessageNotFound)


def test_sigterm_and_sigint_ask_the_worker_to_stop() -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        stop = threading.Event()
        before = signal.getsignal(sig)
        with worker_cli._stop_on_signals(stop):
            os.kill(os.getpid(), sig)
            assert stop.wait(5)
        assert signal.getsignal(sig) is before


def test_registered_chores_run_with_the_housekeeping_and_a_failing_one_holds_none_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[str] = []

    def broken(session: object) -> int:
        raise RuntimeError("no luck for 37080219900101123X")

    def counted(session: object) -> int:
        ran.append("counted")
        return 3

    with outbox.housekeeping_registry():
        outbox.register_housekeeping("test broken chore", broken)
        outbox.register_housekeeping("test counted chore", counted)
        with caplog.at_level("INFO", logger="sscard.cli.worker"):
            done = worker_cli.housekeeping()
    assert done["test broken chore"] == -1 and done["test counted chore"] == 3
    assert ran == ["counted"]
    assert "housekeeping test broken chore failed" in caplog.text
    assert "1123X" not in caplog.text
