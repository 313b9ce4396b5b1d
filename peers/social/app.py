"""A social insurance system (社会保险经办系统) simulator: records the 城乡居民基本养老保险
contributions the platform collected, one per person and year, and answers queries.

- ``POST /contributions``: record a paid contribution (``Idempotency-Key`` honoured; the
  same order again answers with the record already made, marked ``replayed``; another
  order for a year already recorded is ``409``).
- ``POST /contributions/query``: a person's contributions (the ID number in the body).
- ``GET /control/stats``: how many calls came and how many records exist (tests).

Records are kept in memory; see docs/peers.md, "social: contributions".
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from peers.common import base_app

router = APIRouter(tags=["contributions"])
IdNumber = Annotated[str, Field(pattern=r"^[0-9]{17}[0-9X]$")]


class ContributionIn(BaseModel):
    id_number: IdNumber
    year: int = Field(ge=2000, le=2100)
    grade_fen: int = Field(gt=0)
    amount_fen: int = Field(gt=0)
    order_no: str = Field(min_length=1, max_length=32)
    paid_at: str = Field(min_length=1, max_length=40)
    region_code: str = Field(pattern=r"^\d{6}$")
    insurance: str = Field(default="城乡居民基本养老保险", max_length=40)


class QueryIn(BaseModel):
    id_number: IdNumber


class Ledger:
    """Contributions by (ID number, year); calls counted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: dict[tuple[str, int], dict[str, Any]] = {}
        self.calls = 0


def _ledger(request: Request) -> Ledger:
    state = request.app.state
    if not hasattr(state, "ledger"):
        state.ledger = Ledger()
    return state.ledger  # type: ignore[no-any-return]


@router.post("/contributions")
def record(
    data: ContributionIn,
    request: Request,
    key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> JSONResponse:
    ledger = _ledger(request)
    with ledger.lock:
        ledger.calls += 1
        found = ledger.records.get((data.id_number, data.year))
        if found is not None:
            if found["order_no"] != data.order_no:
                detail = f"{data.year} 年度已缴费（订单 {found['order_no']}），不能重复缴费"
                return JSONResponse({"error": "refused", "detail": detail}, status_code=409)
            return JSONResponse({**_shown(found), "replayed": True})
        made = {
            **data.model_dump(),
            "recorded_at": datetime.now(UTC).isoformat(),
            "key": key,
        }
        ledger.records[(data.id_number, data.year)] = made
    return JSONResponse({**_shown(made), "replayed": False}, status_code=201)


def _shown(found: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in found.items() if k not in ("id_number", "key")}


@router.post("/contributions/query")
def query(data: QueryIn, request: Request) -> dict[str, Any]:
    ledger = _ledger(request)
    with ledger.lock:
        items = [_shown(r) for (who, _), r in ledger.records.items() if who == data.id_number]
    return {"items": sorted(items, key=lambda r: r["year"])}


@router.get("/control/stats")
def stats(request: Request) -> dict[str, int]:
    ledger = _ledger(request)
    return {"calls": ledger.calls, "records": len(ledger.records)}


def create_app() -> FastAPI:
    """A social insurance system (社会保险经办系统) simulator: contributions by person and year."""
    app = base_app("social")
    app.include_router(router)
    return app
