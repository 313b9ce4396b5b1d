"""The bank's side of benefit disbursement (待遇发放): credit the accounts of a payment file.

``POST /disbursement/files`` takes a payment file (``sscard.disbursement-order``, signed by
the city; header ``X-File-No``), credits every row's account in the books
(:class:`peers.bank.store.Account.post`) and keeps a return file
(``bank.disbursement-return``, signed by the bank): per row paid, or failed with a code and
a reason. ``GET /disbursement/files/{file_no}/return`` downloads it. The same file sent
again answers with the first receipt and credits nothing; another file under the same
number is refused (409).

A row fails when its account is not the card's (``unknown_account`` 账户不存在) or a failure
was planted for its card with ``PUT /control/disbursement/failures``
(``card_cancelled`` 卡已注销, ``account_frozen`` 账户冻结, ``name_mismatch`` 户名不符,
``unknown_account``). An account the bank has not seen, for a card with no other account
here, is taken as opened earlier by a card-making file (as ``accounts.py`` does).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from peers.bank.batch import bank, receive_body, rejected
from peers.bank.store import Account, Books, books_of
from sscard.exchange.errors import PackageRejected
from sscard.exchange.files.formats import DISBURSEMENT_ORDER, DISBURSEMENT_RETURN, FAILURE, SUCCESS
from sscard.exchange.files.manifest import sm3_file
from sscard.exchange.files.partykeys import trust_dir_verifier
from sscard.exchange.files.reader import Row, open_package
from sscard.exchange.files.writer import PackageWriter

router = APIRouter(tags=["disbursement"])

FAILURES = {
    "card_cancelled": "卡已注销",
    "account_frozen": "账户冻结",
    "name_mismatch": "户名不符",
    "unknown_account": "账户不存在",
}
KIND_NAMES = {"pension": "养老金", "unemployment": "失业金", "subsidy": "补贴"}


@dataclass
class Received:
    digest: str
    path: Path
    receipt: dict[str, Any]


@dataclass
class Desk:
    """The payment files received (by number) and the failures planted (by card number)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    files: dict[str, Received] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


_desk_lock = threading.Lock()


def _desk(request: Request) -> Desk:
    with _desk_lock:
        found = getattr(request.app.state, "disbursement_desk", None)
        if found is None:
            found = Desk()
            request.app.state.disbursement_desk = found
        return found


DeskDep = Annotated[Desk, Depends(_desk)]


def _account(books: Books, row: Row) -> Account | None:
    bank_code, card, number = row["BANK_CODE"], row["AAZ500"], row["BANK_ACCOUNT"]
    account = books.accounts.get((bank_code, number))
    if account is None:
        if books.account_of_card(bank_code, card) is not None:
            return None
        return books.open(bank_code, card, number)
    if account.card_number != card or account.status == "unbound":
        return None
    return account


def _pay(books: Books, desk: Desk, row: Row) -> dict[str, str]:
    out = {
        "SEQ": row["SEQ"],
        "LINE_ID": row["LINE_ID"],
        "AAZ500": row["AAZ500"],
        "BANK_ACCOUNT": row["BANK_ACCOUNT"],
        "AMOUNT_FEN": row["AMOUNT_FEN"],
    }
    planted = desk.failures.get(row["AAZ500"])
    account = _account(books, row) if planted is None else None
    if account is None:
        code = planted or "unknown_account"
        return {**out, "RESULT": FAILURE, "FAIL_CODE": code, "FAIL_REASON": FAILURES[code]}
    kind = KIND_NAMES.get(row["BENEFIT_KIND"], row["BENEFIT_KIND"])
    account.post(int(row["AMOUNT_FEN"]), "benefit", f"{kind} {row['PERIOD']}")
    return {**out, "RESULT": SUCCESS}


def credit_file(books: Books, desk: Desk, order: Path, file_no: str) -> dict[str, Any]:
    """Check a payment file whole, credit its rows and write the signed return file."""
    peer = bank()
    target = peer.config.data_dir / "disbursement" / f"{file_no}.return.zip"
    paid = failed = 0
    with open_package(
        order, expect=DISBURSEMENT_ORDER, verify=trust_dir_verifier(peer.config.trust_dir)
    ) as package:
        if package.batch_no != file_no:
            raise PackageRejected(f"数据包被拒收：文件号 {package.batch_no[:64]} 与 {file_no} 不符")
        with (
            books.lock,
            PackageWriter(
                target,
                fmt=DISBURSEMENT_RETURN,
                batch_no=file_no,
                sender="bank",
                recipient=package.manifest.sender,
            ) as writer,
        ):
            for row in package.rows():
                line = _pay(books, desk, row)
                paid, failed = (
                    paid + (line["RESULT"] == SUCCESS),
                    failed + (line["RESULT"] != SUCCESS),
                )
                writer.add(line)
            writer.finish(peer.signer)
    return {
        "file_no": file_no,
        "status": "done",
        "rows": paid + failed,
        "paid": paid,
        "failed": failed,
    }


def _accept(books: Books, desk: Desk, order: Path, file_no: str) -> JSONResponse:
    """Credit a payment file once; the same file again gets the first receipt."""
    digest = sm3_file(order)
    with desk.lock:
        known = desk.files.get(file_no)
        if known is not None:
            if known.digest != digest:
                body = {"error": "refused", "detail": f"发放文件 {file_no} 已收到另一份内容"}
                return JSONResponse(body, status_code=409)
            return JSONResponse(known.receipt, headers={"Idempotent-Replayed": "true"})
        try:
            receipt = credit_file(books, desk, order, file_no)
        except PackageRejected as exc:
            return rejected(exc)
        path = bank().config.data_dir / "disbursement" / f"{file_no}.return.zip"
        desk.files[file_no] = Received(digest, path, receipt)
        return JSONResponse(receipt, status_code=201)


@router.post("/disbursement/files", summary="Credit the accounts of a benefit payment file")
async def receive_file(
    request: Request,
    desk: DeskDep,
    file_no: Annotated[str, Header(alias="X-File-No", pattern=r"^[A-Za-z0-9-]{1,64}$")],
) -> Any:
    books = books_of(request.app.state)
    order = await receive_body(request, bank().config.data_dir / "work")
    try:
        return await run_in_threadpool(_accept, books, desk, order, file_no)
    finally:
        order.unlink(missing_ok=True)


@router.get("/disbursement/files/{file_no}/return", summary="The return file of a payment file")
def return_file(file_no: str, desk: DeskDep) -> Any:
    found = desk.files.get(file_no)
    if found is None or not found.path.exists():
        body = {"error": "not_found", "detail": f"本行未收到发放文件 {file_no[:64]}"}
        return JSONResponse(body, status_code=404)
    return FileResponse(found.path, media_type="application/zip")


class FailureIn(BaseModel):
    card_numbers: list[Annotated[str, Field(pattern=r"^[A-Z0-9]{9}$")]]
    code: Literal["card_cancelled", "account_frozen", "name_mismatch", "unknown_account"]


@router.put("/control/disbursement/failures", status_code=204)
def plant_failures(data: FailureIn, desk: DeskDep) -> None:
    """Make payments to these cards fail with ``code`` until cleared (tests and demos)."""
    with desk.lock:
        for number in data.card_numbers:
            desk.failures[number] = data.code


@router.delete("/control/disbursement/failures", status_code=204)
def clear_failures(desk: DeskDep) -> None:
    with desk.lock:
        desk.failures.clear()
