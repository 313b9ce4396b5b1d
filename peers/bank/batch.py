"""The bank's side of batch card making: open an account for every row of a card-making file.

``POST /card-making/accounts`` takes a bank-order package (``province.bank-order``, signed
by the province) as the request body and answers with a bank-result package
(``bank.account-result``, signed by the bank): per row, the new bank card number or why no
account was opened. The same :class:`Bank` runs in-process in tests.

Configuration (environment; see docs/peers.md):

- ``PEER_DATA_DIR`` (default ``var/peers/bank``) keys and the record of failed rows;
  ``PEER_TRUST_DIR`` (default ``var/peers/trust``) the partners' public keys, ``<party>.pem``,
  where the bank also publishes ``bank.pem``.
- ``PEER_BANK_FAIL_RATE`` (0 to 1) and ``PEER_BANK_FAIL_SEED``: fail that share of rows,
  chosen by a hash of seed, batch and card number; ``PEER_BANK_FAIL_DIGITS``: fail rows
  whose ID number ends in one of these characters. ``PEER_FAIL_ONCE`` (default 1): a card
  number fails at most once, as if the clerk had fixed the cause before resubmitting.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from sscard.crypto import primitives
from sscard.exchange.errors import PackageRejected
from sscard.exchange.files.formats import BANK_ORDER, BANK_RESULT, FAILURE, SUCCESS
from sscard.exchange.files.manifest import Manifest
from sscard.exchange.files.partykeys import party_signer, trust_dir_verifier
from sscard.exchange.files.reader import Row, open_package
from sscard.exchange.files.writer import PackageWriter

router = APIRouter(tags=["card making"])

PARTY = "bank"
BIN = "621700"
REASONS = (
    "联网核查公民身份信息不一致，无法开户",
    "该客户在本行已有社会保障卡金融账户",
    "客户信息不完整（缺少必要的开户要素）",
)


@dataclass(frozen=True)
class FailRule:
    """Which rows a peer fails: a share chosen by hash, and rows by the ID number's last char."""

    rate: float = 0.0
    seed: str = "1"
    digits: str = ""
    once: bool = True

    @classmethod
    def from_env(cls, prefix: str) -> FailRule:
        return cls(
            rate=float(os.environ.get(f"{prefix}_FAIL_RATE", "0") or 0),
            seed=os.environ.get(f"{prefix}_FAIL_SEED", "1"),
            digits=os.environ.get(f"{prefix}_FAIL_DIGITS", "").upper(),
            once=os.environ.get("PEER_FAIL_ONCE", "1") != "0",
        )

    def picks(self, *, batch_no: str, card_number: str, id_number: str) -> bool:
        if self.digits and id_number[-1:].upper() in self.digits:
            return True
        if self.rate <= 0:
            return False
        draw = primitives.sm3(f"{self.seed}|{batch_no}|{card_number}".encode())
        return int.from_bytes(draw[:8], "big") / 2**64 < self.rate

    def reason(self, reasons: tuple[str, ...], card_number: str) -> str:
        return reasons[primitives.sm3(card_number.encode())[0] % len(reasons)]


@dataclass
class FailedLedger:
    """Card numbers that failed once (``failed.txt``), so that a resubmitted card goes through."""

    path: Path
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self) -> set[str]:
        if not self.path.exists():
            return set()
        return set(self.path.read_text(encoding="ascii").split())

    def add(self, numbers: list[str]) -> None:
        if numbers:
            with self._lock, self.path.open("a", encoding="ascii") as handle:
                handle.write("\n".join(numbers) + "\n")


@dataclass(frozen=True)
class BankConfig:
    data_dir: Path
    trust_dir: Path
    fail: FailRule

    @classmethod
    def from_env(cls) -> BankConfig:
        return cls(
            data_dir=Path(os.environ.get("PEER_DATA_DIR", "var/peers/bank")),
            trust_dir=Path(os.environ.get("PEER_TRUST_DIR", "var/peers/trust")),
            fail=FailRule.from_env("PEER_BANK"),
        )


def luhn(digits: str) -> str:
    """The Luhn check digit bank card numbers end with."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def account_number(card_number: str) -> str:
    """A 19-digit bank card number for a social security card number (stable per card)."""
    body = BIN + str(int.from_bytes(primitives.sm3(card_number.encode())[:8], "big"))[-12:]
    body = body.ljust(18, "0")
    return body + luhn(body)


class Bank:
    """Opens accounts for a bank-order package; writes the signed result package."""

    def __init__(self, config: BankConfig) -> None:
        self.config = config
        self.signer = party_signer(config.data_dir, PARTY, publish_to=config.trust_dir)
        self.failed = FailedLedger(config.data_dir / "failed.txt")

    def open_accounts(self, order: Path, result: Path) -> Manifest:
        verify = trust_dir_verifier(self.config.trust_dir)
        with open_package(order, expect=BANK_ORDER, verify=verify) as package:
            already = self.failed.load() if self.config.fail.once else set()
            newly: list[str] = []
            with PackageWriter(
                result,
                fmt=BANK_RESULT,
                batch_no=package.batch_no,
                sender=PARTY,
                recipient=package.manifest.sender,
            ) as writer:
                for row in package.rows():
                    writer.add(self._account(package.batch_no, row, already, newly))
                manifest = writer.finish(self.signer)
        self.failed.add(newly)
        return manifest

    def _account(
        self, batch_no: str, row: Row, already: set[str], newly: list[str]
    ) -> dict[str, str]:
        number = row["AAZ500"]
        out = {
            "SEQ": row["SEQ"],
            "AAZ500": number,
            "AAC002": row["AAC002"],
            "BANK_CODE": row["BANK_CODE"],
        }
        rule = self.config.fail
        if number not in already and rule.picks(
            batch_no=batch_no, card_number=number, id_number=row["AAC002"]
        ):
            newly.append(number)
            return {**out, "RESULT": FAILURE, "FAIL_REASON": rule.reason(REASONS, number)}
        return {**out, "BANK_ACCOUNT": account_number(number), "RESULT": SUCCESS}


@lru_cache(maxsize=1)
def bank() -> Bank:
    return Bank(BankConfig.from_env())


async def receive_body(request: Request, directory: Path) -> Path:
    """Stream a request body to a file under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=directory, suffix=".upload", delete=False)  # noqa: SIM115
    with handle:
        async for chunk in request.stream():
            handle.write(chunk)
    return Path(handle.name)


def rejected(exc: PackageRejected) -> JSONResponse:
    return JSONResponse({"error": exc.code, "detail": exc.message}, status_code=422)


@router.post("/card-making/accounts", summary="Open accounts for a bank-order package")
async def open_accounts(request: Request) -> Response:
    peer = bank()
    work = peer.config.data_dir / "work"
    order = await receive_body(request, work)
    result = order.with_suffix(".result.zip")
    try:
        await run_in_threadpool(peer.open_accounts, order, result)
    except PackageRejected as exc:
        return rejected(exc)
    finally:
        order.unlink(missing_ok=True)
    return FileResponse(
        result, media_type="application/zip", background=BackgroundTask(result.unlink)
    )


@router.get("/keys/bank.pem", summary="The bank's signing public key (PEM)")
def public_key() -> Response:
    path = bank().config.trust_dir / f"{PARTY}.pem"
    return Response(path.read_text(encoding="ascii"), media_type="application/x-pem-file")
