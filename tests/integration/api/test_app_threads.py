"""The HTTP app bounds the threads that run its blocking handlers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import anyio
import anyio.to_thread
import pytest
from sqlalchemy import Engine

from sscard.app.factory import create_app
from sscard.settings import reset_settings


def test_blocking_handlers_share_the_configured_number_of_threads(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSCARD_HTTP_THREADS", "3")
    reset_settings()
    try:
        app = create_app()

        async def tokens_while_serving() -> float:
            async with app.router.lifespan_context(app):
                return anyio.to_thread.current_default_thread_limiter().total_tokens

        # a thread of its own: a browser test may have left this thread's event loop running
        with ThreadPoolExecutor(max_workers=1) as pool:
            assert pool.submit(anyio.run, tokens_while_serving).result() == 3
    finally:
        monkeypatch.delenv("SSCARD_HTTP_THREADS")
        reset_settings()


def test_a_nonsense_number_of_threads_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from sscard.settings import Settings

    with pytest.raises(ValidationError, match="http_threads"):
        Settings(http_threads=0)
