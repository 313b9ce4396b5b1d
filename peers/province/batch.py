"""The province card centre's side of batch card making (省卡管批量制卡).

A city sends its batch account-opening package (``POST /batches``, the package as the
body, SM4-GCM wrapped or not). The province checks it whole against the city's public key
and answers 202, or 422 with the reason. It then works in the background:

1. checks every row (the ID number's check character; a card number twice in the batch):
   rows that fail are the province's failures;
2. writes the bank-order file and posts it to the bank (``PEER_BANK_URL``), which opens an
   account per row or says why not;
3. writes the vendor-order file (photos included, with the new bank card numbers) for the
   rows the bank accepted and posts it to the vendor (``PEER_VENDOR_URL``);
4. merges the three outcomes, in the order of the city's rows, into the card-making
   result file, signed by the province.

The city polls ``GET /batches/{batch_no}`` and downloads ``GET /batches/{batch_no}/result``
(``?encrypt=1`` for SM4-GCM). Every file is a package of ``sscard.exchange.files`` and is
kept under ``PEER_DATA_DIR/batches/<batch_no>/``. Employer codes: the province fills in
its own code (``SD`` + 10 hex of SM3 of the credit code) where the city sent none, as a
province that keeps its own employer register would.

Configuration (environment; see docs/peers.md): ``PEER_DATA_DIR`` (default
``var/peers/province``), ``PEER_TRUST_DIR``, ``PEER_BANK_URL``, ``PEER_VENDOR_URL``,
``PEER_TRANSFER_KEY_FILE`` (the SM4 key file the city handed over), ``PEER_TIMEOUT``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from peers.bank.batch import receive_body, rejected
from sscard.crypto import primitives
from sscard.errors import SSCardError
from sscard.exchange.errors import PackageRejected
from sscard.exchange.files.formats import (
    ACCOUNT_OPENING,
    BANK_ORDER,
    BANK_RESULT,
    CARD_RESULT,
    FAILURE,
    SUCCESS,
    VENDOR_ORDER,
    VENDOR_RESULT,
    FileFormat,
)
from sscard.exchange.files.manifest import READ_SIZE, sm3_file
from sscard.exchange.files.partykeys import party_signer, trust_dir_verifier
from sscard.exchange.files.reader import Package, Row, open_package
from sscard.exchange.files.transfer import (
    TransferKey,
    decrypt_file,
    encrypt_file,
    is_encrypted,
    read_transfer_key,
)
from sscard.exchange.files.writer import PackageWriter

log = logging.getLogger("peers.province")
router = APIRouter(tags=["batch card making"])

PARTY = "province"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
Stage = Callable[[Path, Path], None]
"""Send an order package, receive the result package: ``stage(order, result)``."""


@dataclass(frozen=True)
class ProvinceConfig:
    data_dir: Path
    trust_dir: Path
    bank_url: str
    vendor_url: str
    transfer_key_file: Path | None
    timeout: float

    @classmethod
    def from_env(cls) -> ProvinceConfig:
        key = os.environ.get("PEER_TRANSFER_KEY_FILE")
        return cls(
            data_dir=Path(os.environ.get("PEER_DATA_DIR", "var/peers/province")),
            trust_dir=Path(os.environ.get("PEER_TRUST_DIR", "var/peers/trust")),
            bank_url=os.environ.get("PEER_BANK_URL", "http://127.0.0.1:9102"),
            vendor_url=os.environ.get("PEER_VENDOR_URL", "http://127.0.0.1:9103"),
            transfer_key_file=Path(key) if key else None,
            timeout=float(os.environ.get("PEER_TIMEOUT", "900")),
        )


def id_number_ok(value: str) -> bool:
    """GB 11643 check character of an 18-character ID number."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == value[17].upper()


def http_stage(url: str, timeout: float) -> Stage:
    """Post an order package to ``url``; the answer is the result package."""

    def call(order: Path, result: Path) -> None:
        def body() -> Iterator[bytes]:
            with order.open("rb") as handle:
                while chunk := handle.read(READ_SIZE):
                    yield chunk

        headers = {"Content-Length": str(order.stat().st_size), "Content-Type": "application/zip"}
        with httpx.Client(timeout=httpx.Timeout(30, read=timeout, write=timeout)) as client:
            with client.stream("POST", url, content=body(), headers=headers) as response:
                if response.status_code != 200:
                    detail = response.read().decode("utf-8", "replace")[:300]
                    raise SSCardError(f"{url} 拒收：{detail}")
                with result.open("wb") as out:
                    for chunk in response.iter_bytes(READ_SIZE):
                        out.write(chunk)

    return call


class Province:
    """Accepts batches, runs them through the bank and the vendor, assembles the result."""

    def __init__(
        self, config: ProvinceConfig, *, bank: Stage | None = None, vendor: Stage | None = None
    ) -> None:
        self.config = config
        self.signer = party_signer(config.data_dir, PARTY, publish_to=config.trust_dir)
        self.bank = bank or http_stage(f"{config.bank_url}/card-making/accounts", config.timeout)
        self.vendor = vendor or http_stage(
            f"{config.vendor_url}/card-making/orders", config.timeout
        )
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    # ---- state --------------------------------------------------------------------------

    def folder(self, batch_no: str) -> Path:
        return self.config.data_dir / "batches" / batch_no

    def state(self, batch_no: str) -> dict[str, Any] | None:
        path = self.folder(batch_no) / "state.json"
        if not path.exists():
            return None
        found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return found

    def _save(self, batch_no: str, **changes: Any) -> dict[str, Any]:
        state = {**(self.state(batch_no) or {}), **changes, "batch_no": batch_no}
        path = self.folder(batch_no) / "state.json"
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, path)
        return state

    def _transfer_key(self) -> TransferKey:
        if self.config.transfer_key_file is None:
            raise PackageRejected("省卡管未配置与本市约定的传输密钥，无法解密")
        return read_transfer_key(self.config.transfer_key_file)

    # ---- accepting a batch --------------------------------------------------------------

    def accept(self, upload: Path, *, batch_no: str | None = None) -> tuple[int, dict[str, Any]]:
        """Check an uploaded package; (HTTP status, body). The upload is moved or removed."""
        plain = upload.with_suffix(".zip")
        try:
            encrypted = is_encrypted(upload)
            if encrypted:
                key = self._transfer_key()
                decrypt_file(upload, plain, key=lambda header: self._key(key, header))
            else:
                upload.replace(plain)
            return self._accept_plain(plain, batch_no, encrypted)
        finally:
            upload.unlink(missing_ok=True)
            plain.unlink(missing_ok=True)

    @staticmethod
    def _key(key: TransferKey, header: dict[str, Any]) -> bytes:
        if header.get("version") != key.version:
            raise PackageRejected(
                f"传输密钥版本不符：文件为 {header.get('version')}，省卡管持有 {key.version}"
            )
        return key.key

    def _accept_plain(
        self, plain: Path, batch_no: str | None, encrypted: bool
    ) -> tuple[int, dict[str, Any]]:
        verify = trust_dir_verifier(self.config.trust_dir)
        with open_package(plain, expect=ACCOUNT_OPENING, verify=verify) as package:
            manifest = package.manifest
        if batch_no and batch_no != manifest.batch_no:
            raise PackageRejected(f"请求的批次号 {batch_no} 与清单的 {manifest.batch_no} 不符")
        digest = sm3_file(plain)
        with self._lock:
            known = self.state(manifest.batch_no)
            if known is not None:
                if known.get("digest") != digest:
                    detail = f"批次 {manifest.batch_no} 已报送且内容不同"
                    return 409, {"error": "batch_exists", "detail": detail}
                return 200, known
            folder = self.folder(manifest.batch_no)
            folder.mkdir(parents=True, exist_ok=True)
            plain.replace(folder / "account-opening.zip")
            state = self._save(
                manifest.batch_no,
                status="accepted",
                rows=manifest.row_count,
                made=0,
                failed=0,
                digest=digest,
                sender=manifest.sender,
                encrypted=encrypted,
                detail="",
            )
        self.start(manifest.batch_no)
        return 202, state

    # ---- processing ---------------------------------------------------------------------

    def start(self, batch_no: str) -> None:
        """Process the batch in a background thread (once at a time)."""
        with self._lock:
            running = self._threads.get(batch_no)
            if running is not None and running.is_alive():
                return
            thread = threading.Thread(
                target=self._process_safely,
                args=(batch_no,),
                name=f"province-{batch_no}",
                daemon=True,
            )
            self._threads[batch_no] = thread
            thread.start()

    def _process_safely(self, batch_no: str) -> None:
        try:
            self.process(batch_no)
        except Exception as exc:
            log.exception("batch %s failed", batch_no)
            detail = exc.message if isinstance(exc, SSCardError) else type(exc).__name__
            self._save(batch_no, status="failed", detail=detail[:300])

    def process(self, batch_no: str) -> dict[str, Any]:
        """Run the batch through the bank and the vendor and write the result file."""
        self._save(batch_no, status="processing")
        folder = self.folder(batch_no)
        source = folder / "account-opening.zip"
        verify = trust_dir_verifier(self.config.trust_dir)
        with open_package(source, expect=ACCOUNT_OPENING, verify=verify) as city:
            checks = self._checks(city)
            self._write_bank_order(city, checks, folder / "bank-order.zip")
            self.bank(folder / "bank-order.zip", folder / "bank-result.zip")
            with open_package(
                folder / "bank-result.zip", expect=BANK_RESULT, verify=verify
            ) as bank:
                self._write_vendor_order(city, checks, bank, folder / "vendor-order.zip")
            self.vendor(folder / "vendor-order.zip", folder / "vendor-result.zip")
            counts = self._write_result(city, checks, folder, verify)
        return self._save(batch_no, status="done", made=counts[0], failed=counts[1])

    @staticmethod
    def _checks(city: Package) -> dict[str, str]:
        """SEQ -> the province's reason to refuse the row (only rows refused)."""
        refused: dict[str, str] = {}
        seen: set[str] = set()
        for row in city.rows():
            if not id_number_ok(row["AAC002"]):
                refused[row["SEQ"]] = "社会保障号码校验位错误"
            elif row["AAZ500"] in seen:
                refused[row["SEQ"]] = "同一批次中卡号重复"
            seen.add(row["AAZ500"])
        return refused

    def _writer(self, path: Path, fmt: FileFormat, city: Package, to: str) -> Any:
        return PackageWriter(path, fmt=fmt, batch_no=city.batch_no, sender=PARTY, recipient=to)

    def _write_bank_order(self, city: Package, refused: dict[str, str], path: Path) -> None:
        with self._writer(path, BANK_ORDER, city, "bank") as writer:
            for row in city.rows():
                if row["SEQ"] not in refused:
                    writer.add({name: row[name] for name in BANK_ORDER.names})
            writer.finish(self.signer)

    def _write_vendor_order(
        self, city: Package, refused: dict[str, str], bank: Package, path: Path
    ) -> None:
        accounts = bank.rows()
        with self._writer(path, VENDOR_ORDER, city, "vendor") as writer:
            for row in city.rows():
                if row["SEQ"] in refused:
                    continue
                account = _matching(accounts, row, "bank")
                if account["RESULT"] != SUCCESS:
                    continue
                values = {name: row[name] for name in VENDOR_ORDER.names}
                values["BANK_ACCOUNT"] = account["BANK_ACCOUNT"]
                writer.add(values, city.photo(row))
            writer.finish(self.signer)

    def _write_result(
        self, city: Package, refused: dict[str, str], folder: Path, verify: Any
    ) -> tuple[int, int]:
        made = failed = 0
        with (
            open_package(folder / "bank-result.zip", expect=BANK_RESULT, verify=verify) as bank,
            open_package(
                folder / "vendor-result.zip", expect=VENDOR_RESULT, verify=verify
            ) as vendor,
            self._writer(folder / "result.zip", CARD_RESULT, city, city.manifest.sender) as writer,
        ):
            accounts, cards = bank.rows(), vendor.rows()
            for row in city.rows():
                out = _result_row(row, refused, accounts, cards)
                made += out["RESULT"] == SUCCESS
                failed += out["RESULT"] == FAILURE
                writer.add(out)
            writer.finish(self.signer)
        return made, failed

    def result(self, batch_no: str, *, encrypt: bool) -> Path:
        """The result file to send (an SM4-GCM wrapped copy when ``encrypt``)."""
        path = self.folder(batch_no) / "result.zip"
        if not encrypt:
            return path
        wrapped = self.folder(batch_no) / f"result-{os.getpid()}-{threading.get_ident()}.sm4"
        encrypt_file(path, wrapped, key=self._transfer_key())
        return wrapped


def _matching(rows: Iterator[Row], row: Row, who: str) -> Row:
    """The next row of a partner's result, which must answer ``row`` (same SEQ)."""
    answer = next(rows, None)
    if answer is None or answer["SEQ"] != row["SEQ"] or answer["AAZ500"] != row["AAZ500"]:
        raise SSCardError(f"{who} 的结果与制卡文件的行不对应（序号 {row['SEQ']}）")
    return answer


def _province_employer(row: Row) -> str:
    if row["AAB001"] or not row["EMPLOYER_CREDIT_CODE"]:
        return row["AAB001"]
    return "SD" + primitives.sm3(row["EMPLOYER_CREDIT_CODE"].encode())[:5].hex().upper()


def _result_row(
    row: Row,
    refused: dict[str, str],
    accounts: Iterator[Row],
    cards: Iterator[Row],
) -> dict[str, str]:
    out = {
        "SEQ": row["SEQ"],
        "AAZ500": row["AAZ500"],
        "AAC002": row["AAC002"],
        "AAC003": row["AAC003"],
        "BANK_CODE": row["BANK_CODE"],
        "AAB001": _province_employer(row),
        "COMMUNITY_CODE": row["COMMUNITY_CODE"],
        "CARD_TYPE": row["CARD_TYPE"],
    }
    if row["SEQ"] in refused:
        return {
            **out,
            "RESULT": FAILURE,
            "FAIL_STAGE": "province",
            "FAIL_REASON": refused[row["SEQ"]],
        }
    account = _matching(accounts, row, "银行")
    if account["RESULT"] != SUCCESS:
        return {
            **out,
            "RESULT": FAILURE,
            "FAIL_STAGE": "bank",
            "FAIL_REASON": account["FAIL_REASON"],
        }
    out["BANK_ACCOUNT"] = account["BANK_ACCOUNT"]
    card = _matching(cards, row, "卡商")
    if card["RESULT"] != SUCCESS:
        return {
            **out,
            "RESULT": FAILURE,
            "FAIL_STAGE": "vendor",
            "FAIL_REASON": card["FAIL_REASON"],
        }
    keep = (
        "CARD_ID_CODE",
        "ATR",
        "ISSUE_DATE",
        "EXPIRY_DATE",
        "VENDOR_CODE",
        "BOX_NO",
        "BOX_POSITION",
    )
    return {**out, **{name: card[name] for name in keep}, "RESULT": SUCCESS}


@lru_cache(maxsize=1)
def province() -> Province:
    return Province(ProvinceConfig.from_env())


@router.post("/batches", status_code=202, summary="Receive a batch account-opening package")
async def submit(request: Request) -> JSONResponse:
    peer = province()
    upload = await receive_body(request, peer.config.data_dir / "incoming")
    try:
        status, body = await run_in_threadpool(
            peer.accept, upload, batch_no=request.headers.get("x-batch-no")
        )
    except PackageRejected as exc:
        return rejected(exc)
    return JSONResponse(body, status_code=status)


@router.get("/batches/{batch_no}", summary="The state of a batch")
def batch_state(batch_no: str) -> JSONResponse:
    peer = province()
    state = peer.state(batch_no)
    if state is None:
        return JSONResponse({"error": "batch_not_found", "detail": f"没有批次 {batch_no}"}, 404)
    if state["status"] in ("accepted", "processing"):
        peer.start(batch_no)  # resumes a batch a restart interrupted
    return JSONResponse({k: v for k, v in state.items() if k != "digest"})


@router.get("/batches/{batch_no}/result", summary="Download the card-making result file")
def batch_result(batch_no: str, encrypt: bool = False) -> Response:
    peer = province()
    state = peer.state(batch_no)
    if state is None or state.get("status") != "done":
        detail = "批次不存在" if state is None else f"批次状态为 {state.get('status')}，结果未就绪"
        return JSONResponse({"error": "result_not_ready", "detail": detail}, 409)
    try:
        path = peer.result(batch_no, encrypt=encrypt)
    except PackageRejected as exc:
        return rejected(exc)
    cleanup = BackgroundTask(path.unlink) if encrypt else None
    return FileResponse(path, media_type="application/octet-stream", background=cleanup)


@router.get("/keys/province.pem", summary="The province's signing public key (PEM)")
def public_key() -> Response:
    path = province().config.trust_dir / f"{PARTY}.pem"
    return Response(path.read_text(encoding="ascii"), media_type="application/x-pem-file")
