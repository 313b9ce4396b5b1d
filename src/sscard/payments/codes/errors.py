"""The one refusal of the code formats: a stable reason and a detail in a clerk's words."""

from __future__ import annotations


class CodeRefused(ValueError):
    """Input that is not a valid code or amount; ``reason`` is stable, ``detail`` is Chinese."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
