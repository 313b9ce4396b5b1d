"""The card vendor's side of batch card making: personalise cards and pack them in boxes.

``POST /card-making/orders`` takes a vendor-order package (``province.vendor-order``,
photos included, signed by the province) as the request body and answers with a
vendor-result package (``vendor.card-result``, signed by the vendor): per row the card
identification code, ATR, issue and expiry dates, box and position, or why the card could
not be made. The same :class:`Vendor` runs in-process in tests.

Configuration (environment; see docs/peers.md): ``PEER_DATA_DIR`` (default
``var/peers/vendor``), ``PEER_TRUST_DIR``, ``PEER_VENDOR_CODE`` (4 characters, default
``HD01``), ``PEER_VENDOR_BOX_SIZE`` (cards per box, default 200), and the failure knobs
``PEER_VENDOR_FAIL_RATE``, ``PEER_VENDOR_FAIL_SEED``, ``PEER_VENDOR_FAIL_DIGITS``,
``PEER_FAIL_ONCE`` as for the bank.
"""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from peers.bank.batch import FailedLedger, FailRule, receive_body, rejected
from sscard.crypto import primitives
from sscard.exchange.errors import PackageRejected
from sscard.exchange.files.formats import FAILURE, SUCCESS, VENDOR_ORDER, VENDOR_RESULT, yyyymmdd
from sscard.exchange.files.manifest import Manifest
from sscard.exchange.files.partykeys import party_signer, trust_dir_verifier
from sscard.exchange.files.reader import Row, open_package
from sscard.exchange.files.writer import PackageWriter
from sscard.issuance import numbers

router = APIRouter(tags=["card making"])

PARTY = "vendor"
REASONS = (
    "芯片个人化写卡失败（写卡校验不通过）",
    "照片不符合制卡要求（人像模糊或背景不合格）",
    "卡面打印质量不合格，需重新制作",
)
VALIDITY_YEARS = 10
_serial_lock = threading.Lock()


@dataclass(frozen=True)
class VendorConfig:
    data_dir: Path
    trust_dir: Path
    vendor_code: str
    box_size: int
    fail: FailRule

    @classmethod
    def from_env(cls) -> VendorConfig:
        return cls(
            data_dir=Path(os.environ.get("PEER_DATA_DIR", "var/peers/vendor")),
            trust_dir=Path(os.environ.get("PEER_TRUST_DIR", "var/peers/trust")),
            vendor_code=os.environ.get("PEER_VENDOR_CODE", "HD01")[:4].upper().rjust(4, "0"),
            box_size=int(os.environ.get("PEER_VENDOR_BOX_SIZE", "200")),
            fail=FailRule.from_env("PEER_VENDOR"),
        )


def card_id_code(*, region: str, generation: str, vendor: str, year: int, serial: int) -> str:
    """The card identification code as docs/formats.md defines it (check digits included)."""
    return numbers.make_card_id_code(
        region_code=region,
        generation=int(generation),
        vendor_code=vendor,
        year=year,
        serial=serial,
    )


def atr(card_number: str) -> str:
    return "3B6C0000" + primitives.sm3(card_number.encode())[:6].hex().upper()


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


class Vendor:
    """Personalises the cards of a vendor-order package; writes the signed result package."""

    def __init__(self, config: VendorConfig) -> None:
        self.config = config
        self.signer = party_signer(config.data_dir, PARTY, publish_to=config.trust_dir)
        self.failed = FailedLedger(config.data_dir / "failed.txt")

    def _serials(self, count: int) -> int:
        """Reserve ``count`` serials (unique across batches); the first of them."""
        path = self.config.data_dir / "serial"
        with _serial_lock:
            first = int(path.read_text()) if path.exists() else secrets.randbelow(10**11) * 10
            path.write_text(str(first + count))
        return first

    def make_cards(self, order: Path, result: Path) -> Manifest:
        verify = trust_dir_verifier(self.config.trust_dir)
        with open_package(order, expect=VENDOR_ORDER, verify=verify) as package:
            first = self._serials(package.manifest.row_count)
            already = self.failed.load() if self.config.fail.once else set()
            run = _Run(self, package.batch_no, first, already)
            with PackageWriter(
                result,
                fmt=VENDOR_RESULT,
                batch_no=package.batch_no,
                sender=PARTY,
                recipient=package.manifest.sender,
            ) as writer:
                for row in package.rows():
                    writer.add(run.card(row, package.photo(row)))
                manifest = writer.finish(self.signer)
        self.failed.add(run.newly)
        return manifest


class _Run:
    def __init__(self, vendor: Vendor, batch_no: str, first: int, already: set[str]) -> None:
        self.vendor, self.batch_no, self.serial = vendor, batch_no, first
        self.already, self.newly = already, list[str]()
        self.packed = 0
        self.today = datetime.now(UTC).date()

    def card(self, row: Row, photo: bytes) -> dict[str, str]:
        config = self.vendor.config
        number = row["AAZ500"]
        out = {"SEQ": row["SEQ"], "AAZ500": number, "VENDOR_CODE": config.vendor_code}
        reason = None
        if not photo.startswith(b"\xff\xd8"):
            reason = "照片格式无法识别（不是 JPEG）"
        elif number not in self.already and config.fail.picks(
            batch_no=self.batch_no, card_number=number, id_number=row["AAC002"]
        ):
            reason = config.fail.reason(REASONS, number)
        if reason is not None:
            self.newly.append(number)
            return {**out, "RESULT": FAILURE, "FAIL_REASON": reason}
        self.serial += 1
        box, position = divmod(self.packed, config.box_size)
        self.packed += 1
        generation = row["CARD_TYPE"] if row["CARD_TYPE"] in ("2", "3") else "3"
        return {
            **out,
            "RESULT": SUCCESS,
            "CARD_ID_CODE": card_id_code(
                region=row["AAB301"],
                generation=generation,
                vendor=config.vendor_code,
                year=self.today.year,
                serial=self.serial,
            ),
            "ATR": atr(number),
            "ISSUE_DATE": yyyymmdd(self.today),
            "EXPIRY_DATE": yyyymmdd(add_years(self.today, VALIDITY_YEARS)),
            "BOX_NO": f"{config.vendor_code}{self.batch_no[-18:]}{box + 1:04d}",
            "BOX_POSITION": str(position + 1),
        }


@lru_cache(maxsize=1)
def vendor() -> Vendor:
    return Vendor(VendorConfig.from_env())


@router.post("/card-making/orders", summary="Personalise the cards of a vendor-order package")
async def make_cards(request: Request) -> Response:
    peer = vendor()
    order = await receive_body(request, peer.config.data_dir / "work")
    result = order.with_suffix(".result.zip")
    try:
        await run_in_threadpool(peer.make_cards, order, result)
    except PackageRejected as exc:
        return rejected(exc)
    finally:
        order.unlink(missing_ok=True)
    return FileResponse(
        result, media_type="application/zip", background=BackgroundTask(result.unlink)
    )


@router.get("/keys/vendor.pem", summary="The vendor's signing public key (PEM)")
def public_key() -> Response:
    path = vendor().config.trust_dir / f"{PARTY}.pem"
    return Response(path.read_text(encoding="ascii"), media_type="application/x-pem-file")
