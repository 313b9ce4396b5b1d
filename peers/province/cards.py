"""The province's card records API (see docs/peers.md, "province: card records").

- ``POST /province/cards/query``: a person's cards in every city (by citizen ID number,
  in the body so that it stays out of URLs and access logs);
- ``POST /province/cards``: a city reports (or updates) one of its cards;
- ``GET /province/cards/{card_number}``: one record (without the ID number);
- ``POST /province/cards/{card_number}/transfer``: management moves to another city
  (地市卡转移); refused if the card is cancelled or not managed by the city giving it;
- ``POST /province/cards/{card_number}/cancel``: the provincial record is cancelled
  (注销省厅卡信息); refused if another city manages the card.

A card the province has not heard of (made at a bank branch, not through a province
batch) is recorded from the notice itself. ``Idempotency-Key`` is honoured on changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from peers.province.directory import Directory, Record, directory_of

router = APIRouter(tags=["card records"])

Answer = tuple[int, dict[str, Any]]
IdNumber = Annotated[str, Field(pattern=r"^\d{17}[\dX]$")]
Region = Annotated[str, Field(pattern=r"^\d{6}$")]
CardNumber = Annotated[str, Field(pattern=r"^[A-Z0-9]{9}$")]


def _directory(request: Request) -> Directory:
    return directory_of(request.app.state)


DirectoryDep = Annotated[Directory, Depends(_directory)]
Key = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


class QueryIn(BaseModel):
    id_number: IdNumber


class RecordIn(BaseModel):
    card_number: CardNumber
    card_id_code: str = Field(min_length=32, max_length=32)
    id_number: IdNumber
    name: str = Field(min_length=1, max_length=64)
    region_code: Region
    managing_region_code: Region | None = None
    status: Literal["issued", "active", "temporarily_lost", "lost", "cancelled"] = "active"
    bank_code: str = Field(min_length=1, max_length=32)
    generation: Literal[2, 3] = 3
    issue_date: str | None = None
    expiry_date: str | None = None


class NoticeIn(BaseModel):
    id_number: IdNumber
    card_id_code: str | None = Field(default=None, max_length=32)
    region_code: Region


class TransferIn(NoticeIn):
    from_region_code: Region
    to_region_code: Region


class CancelIn(NoticeIn):
    managing_region_code: Region
    reason: str = Field(min_length=1, max_length=200)


def _refused(detail: str, status: int = 409) -> Answer:
    return status, {"error": "refused", "detail": detail}


def _once(
    directory: Directory, operation: str, key: str | None, action: Callable[[], Answer]
) -> Any:
    with directory.lock:
        if key and (operation, key) in directory.replies:
            status, body = directory.replies[(operation, key)]
            return JSONResponse(body, status_code=status, headers={"Idempotent-Replayed": "true"})
        status, body = action()
        if key and status < 300:
            directory.replies[(operation, key)] = (status, body)
        return JSONResponse(body, status_code=status)


def _known(directory: Directory, card_number: str, data: NoticeIn, managing: str) -> Record:
    """The card's record, recorded from the notice if the province has not heard of it."""
    found = directory.cards.get(card_number)
    if found is None:
        found = Record(
            card_number=card_number,
            card_id_code=data.card_id_code or "",
            id_number=data.id_number,
            name="",
            region_code=data.region_code,
            managing_region_code=managing,
            status="active",
            bank_code="",
        )
        directory.cards[card_number] = found
    return found


@router.post("/province/cards/query")
def query(data: QueryIn, directory: DirectoryDep) -> Any:
    """Every card the province records for a person."""
    with directory.lock:
        return {"items": [r.public() for r in directory.of_person(data.id_number)]}


@router.post("/province/cards", status_code=201)
def report(data: RecordIn, directory: DirectoryDep) -> Any:
    """A city reports (or updates) a card it issued."""
    with directory.lock:
        record = Record(
            **{
                **data.model_dump(),
                "managing_region_code": data.managing_region_code or data.region_code,
            }
        )
        directory.cards[record.card_number] = record
        return record.public()


@router.get("/province/cards/{card_number}")
def get(card_number: str, directory: DirectoryDep) -> Any:
    with directory.lock:
        found = directory.cards.get(card_number)
        if found is None:
            return JSONResponse({"error": "not_found", "detail": "省持卡库无此卡"}, 404)
        return found.public()


@router.post("/province/cards/{card_number}/transfer")
def transfer(card_number: str, data: TransferIn, directory: DirectoryDep, key: Key = None) -> Any:
    """Management of the card moves from one city to another."""

    def action() -> Answer:
        record = _known(directory, card_number, data, data.from_region_code)
        if record.id_number != data.id_number:
            return _refused("持卡人证件号码与省持卡库记录不符")
        if record.status == "cancelled":
            return _refused("该卡在省持卡库中已注销，不能转移")
        if record.managing_region_code != data.from_region_code:
            return _refused(
                f"该卡由 {record.managing_region_code} 管理，不能由 {data.from_region_code} 转出"
            )
        record.managing_region_code = data.to_region_code
        return 200, record.public()

    return _once(directory, "transfer", key, action)


@router.post("/province/cards/{card_number}/cancel")
def cancel(card_number: str, data: CancelIn, directory: DirectoryDep, key: Key = None) -> Any:
    """Cancel the card's provincial record."""

    def action() -> Answer:
        record = _known(directory, card_number, data, data.managing_region_code)
        if record.id_number != data.id_number:
            return _refused("持卡人证件号码与省持卡库记录不符")
        if record.managing_region_code != data.managing_region_code:
            return _refused(f"该卡由 {record.managing_region_code} 管理，应由该地市注销")
        record.status, record.cancel_reason = "cancelled", data.reason
        return 200, record.public()

    return _once(directory, "cancel", key, action)
