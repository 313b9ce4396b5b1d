from collections.abc import Iterator

import pytest

from sscard.ecard import service


@pytest.fixture(autouse=True)
def fresh_copy_states() -> Iterator[None]:
    """Rolled-back tests reuse copy numbers; the per-process state cache must not carry over."""
    service.forget_states()
    yield
    service.forget_states()
