"""The bank's daily file (银行日终对账文件), from the Books' ``payments`` map.

- ``GET /payments/dailyfile?bank_code=&day=yyyymmdd&cutoff=23:00``: every debit and credit
  the bank applied or refused for ``bank_code`` in that clearing day (from the cut-off of
  the day before, Beijing time), in the layout of docs/formats.md ("payments: daily files");
- ``PUT /control/dailyfile/plant``: tests plant differences in the next files: a reference
  left out (``drop``), another amount or status, or a record the platform never asked for.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from peers.bank.store import Books, books_of
from sscard.db import CHINA_TZ
from sscard.payments.clearing.rules import clearing_day, parse_cutoff
from sscard.payments.recon import dailyfile

router = APIRouter(tags=["payments"])


def _books(request: Request) -> Books:
    return books_of(request.app.state)


BooksDep = Annotated[Books, Depends(_books)]


class Plant(BaseModel):
    ref: str = Field(pattern=r"^[A-Za-z0-9:._-]{1,64}$")
    drop: bool = False
    amount_fen: int | None = Field(default=None, gt=0)
    status: Literal["done", "refused"] | None = None
    kind: Literal["debit", "credit"] = "debit"
    """For a record the platform never asked for (``ref`` unknown to the bank)."""


def _planted(request: Request) -> dict[str, Plant]:
    found: dict[str, Plant] | None = getattr(request.app.state, "dailyfile_plants", None)
    if found is None:
        found = request.app.state.dailyfile_plants = {}
    return found


def records(
    payments: list[Any], plants: dict[str, Plant], bank_code: str, day: date, cutoff: str
) -> list[dailyfile.Record]:
    """The day's records of one bank, in the order applied, with the planted changes."""
    cut = parse_cutoff(cutoff)
    out: list[dailyfile.Record] = []
    for p in payments:
        if p.bank_code != bank_code or clearing_day(p.at, cut) != day:
            continue
        plant = plants.get(p.ref)
        if plant is not None and plant.drop:
            continue
        amount = plant.amount_fen if plant and plant.amount_fen else p.amount_fen
        status = plant.status if plant and plant.status else p.status
        out.append(dailyfile.Record(p.ref, p.kind, amount, status, dailyfile.utc_text(p.at)))
    known = {p.ref for p in payments}
    for plant in plants.values():
        if plant.ref not in known and not plant.drop and plant.amount_fen:
            at = dailyfile.utc_text(datetime.combine(day, time(12), tzinfo=CHINA_TZ))
            out.append(
                dailyfile.Record(
                    plant.ref, plant.kind, plant.amount_fen, plant.status or "done", at
                )
            )
    return out


@router.get("/payments/dailyfile")
def daily_file(
    request: Request,
    books: BooksDep,
    bank_code: Annotated[str, Query(min_length=1, max_length=32)],
    day: Annotated[str, Query(pattern=r"^\d{8}$")],
    cutoff: Annotated[str, Query(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "23:00",
) -> Response:
    """The bank's daily file for ``bank_code`` and ``day``."""
    which = datetime.strptime(day, "%Y%m%d").date()
    with books.lock:
        payments = list(books.payments.values())
        plants = dict(_planted(request))
    data = dailyfile.write(
        dailyfile.Header("bank", bank_code, which),
        records(payments, plants, bank_code, which, cutoff),
    )
    return Response(data, media_type="text/plain; charset=utf-8")


@router.put("/control/dailyfile/plant", status_code=204)
def plant(data: Plant, request: Request) -> None:
    """Plant a difference in the next daily files (tests)."""
    _planted(request)[data.ref] = data


@router.delete("/control/dailyfile/plant", status_code=204)
def clear_plants(request: Request) -> None:
    _planted(request).clear()
