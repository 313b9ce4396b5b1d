"""Fixtures of the kit tests: empty kit tables, private subscribers and destinations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete

from sscard.kit import events, outbox
from sscard.kit.guard import KitClaim, KitRateWindow
from sscard.kit.outbox import OutboxMessage


def _wipe(engine: Engine) -> None:
    with engine.begin() as connection:
        for model in (OutboxMessage, KitClaim, KitRateWindow):
            connection.execute(delete(model))


@pytest.fixture
def clean_kit(engine: Engine) -> Iterator[Engine]:
    """Tests that commit start and end with empty kit tables."""
    _wipe(engine)
    yield engine
    _wipe(engine)


@pytest.fixture
def private_bus() -> Iterator[None]:
    """No subscribers and no destinations but the test's own, restored afterwards."""
    with events.subscriptions(), outbox.destinations():
        yield
