"""A bank branch making a card on the spot (即时制卡), as a client of the platform.

The branch's system does what a real one would, in order:

1. ``POST /api/v1/instant/accounts`` on the platform: open the card account (开户): the
   applicant is checked, a card number allocated;
2. ``POST /accounts`` on its own bank: open the financial account for that card;
3. print the card: the printer writes the chip and reports the card identification code
   and the ATR;
4. ``POST /api/v1/instant/cards/{card_number}/made``: report what was printed; the card is
   made and issued at the branch;
5. ``POST /api/v1/instant/cards/{card_number}/activate``: one-step activation.

Every platform call carries an idempotency key derived from the branch's own ticket
number, so a call retried after a timeout never makes a second card. Used by the e2e
tests and by ``bench/instant_http.py``.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

VENDOR_CODE = "BK01"
"""The branch's card printer, as it appears in card identification codes."""


def card_id_code(region_code: str, serial: int, *, generation: int = 3) -> str:
    """The 32-character card identification code the printer writes (docs/formats.md)."""
    year = datetime.now(UTC).year
    first30 = f"{region_code}156{generation}{VENDOR_CODE}{year:04d}{serial:012d}"
    return first30 + mod97_check(first30)


def mod97_check(first30: str) -> str:
    """ISO/IEC 7064 MOD 97-10 check digits (letters count A=10 ... Z=35, as in IBANs)."""
    number = int("".join(str(int(c, 36)) for c in first30))
    return f"{98 - (number * 100) % 97:02d}"


def atr() -> str:
    """An answer-to-reset string as a contact chip gives it."""
    return "3B6C0000" + secrets.token_hex(6).upper()


class BranchError(RuntimeError):
    def __init__(self, step: str, response: httpx.Response) -> None:
        super().__init__(f"{step}: HTTP {response.status_code} {response.text[:300]}")
        self.step, self.status_code = step, response.status_code


@dataclass
class Made:
    """One card made at the branch, and how long each platform call took (seconds)."""

    card_number: str
    account: str
    card_id_code: str
    timings: dict[str, float] = field(default_factory=dict)
    activation: dict[str, Any] = field(default_factory=dict)


class Branch:
    """A branch of bank ``bank_code`` talking to the platform and to its own bank."""

    def __init__(
        self,
        *,
        platform: httpx.Client,
        bank_url: str,
        bank_code: str,
        region_code: str = "370800",
    ) -> None:
        self.platform, self.bank_code, self.region_code = platform, bank_code, region_code
        self.bank = httpx.Client(base_url=bank_url, timeout=30)

    def close(self) -> None:
        self.bank.close()

    def call(
        self, step: str, path: str, body: dict[str, Any], key: str, timings: dict[str, float]
    ) -> Any:
        started = time.perf_counter()
        response = self.platform.post(path, json=body, headers={"Idempotency-Key": key})
        timings[step] = time.perf_counter() - started
        if response.status_code >= 300:
            raise BranchError(step, response)
        return response.json()

    def make_card(self, id_number: str, *, ticket: str | None = None) -> Made:
        """Open the account, print, report and activate one card."""
        ticket = ticket or secrets.token_hex(8)
        timings: dict[str, float] = {}
        opened = self.call(
            "open_account",
            "/api/v1/instant/accounts",
            {"id_number": id_number},
            f"{ticket}-open",
            timings,
        )
        card_number = opened["card_number"]
        account = self.bank.post(
            "/accounts", json={"bank_code": self.bank_code, "card_number": card_number}
        )
        if account.status_code >= 300:
            raise BranchError("bank_open", account)
        number = account.json()["account"]
        code = card_id_code(self.region_code, secrets.randbelow(10**12))
        made = {"card_id_code": code, "atr": atr(), "bank_account": number}
        self.call(
            "make_card",
            f"/api/v1/instant/cards/{card_number}/made",
            made,
            f"{ticket}-made",
            timings,
        )
        activation = self.call(
            "activate",
            f"/api/v1/instant/cards/{card_number}/activate",
            {},
            f"{ticket}-activate",
            timings,
        )
        return Made(card_number, number, code, timings, activation)
