"""The medical insurance system's settlement API, as the platform calls it (docs/peers.md,
"medical: settlement").

- ``POST /medical/persons/query``: an insured person's type, personal account and year;
- ``POST /medical/chronic`` / ``/medical/chronic/revoke``: chronic-disease qualifications
  (门诊慢特病) registered by the city;
- ``POST /medical/presettle``: the split of a bill, nothing kept (试算);
- ``POST /medical/settlements``: settle a bill (结算), once per settlement number;
- ``GET /medical/settlements/{no}``, ``POST /medical/settlements/{no}/cancel`` (退费).

ID numbers travel in bodies, never in URLs. Refusals are ``4xx {"error": "refused",
"detail"}`` in a clerk's words.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from peers.medical.rules import INSURANCE_TYPES, ITEM_CLASS_NAMES, Item, Standing, split
from peers.medical.store import Books, Chronic, Insured, Settled, books_of

router = APIRouter(prefix="/medical", tags=["medical"])
BEIJING = timedelta(hours=8)
IdNumber = Annotated[str, Field(pattern=r"^[0-9]{17}[0-9X]$")]
SettlementNo = Annotated[str, Field(pattern=r"^[A-Z0-9]{8,32}$")]
TYPE_NAMES = {"employee": "职工医保", "resident": "居民医保"}


def _books(request: Request) -> Books:
    return books_of(request.app.state)


BooksDep = Annotated[Books, Depends(_books)]


def _refused(detail: str, status: int = 422) -> JSONResponse:
    return JSONResponse({"error": "refused", "detail": detail}, status_code=status)


def _today() -> date:
    return (datetime.now(UTC) + BEIJING).date()


class PersonIn(BaseModel):
    id_number: IdNumber


class ChronicIn(PersonIn):
    qualification_no: str = Field(pattern=r"^[A-Za-z0-9-]{4,32}$")
    disease_code: str = Field(pattern=r"^[A-Za-z0-9.]{2,16}$")
    disease_name: str = Field(min_length=1, max_length=50)
    valid_from: date
    valid_to: date | None = None


class RevokeIn(PersonIn):
    qualification_no: str = Field(pattern=r"^[A-Za-z0-9-]{4,32}$")


class ItemIn(BaseModel):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=60)
    item_class: Literal["drug_a", "drug_b", "drug_c", "examination", "treatment"]
    amount_fen: int = Field(gt=0, le=10**10)
    disease_code: str | None = Field(default=None, max_length=16)


class BillIn(PersonIn):
    settlement_no: SettlementNo
    hospital_code: str = Field(min_length=1, max_length=32)
    visit_kind: Literal["outpatient", "inpatient", "pharmacy"]
    offsite: bool = False
    visit_date: date | None = None
    items: list[ItemIn] = Field(min_length=1, max_length=200)


def _person(books: Books, id_number: str) -> Insured | JSONResponse:
    person = books.persons.get(id_number)
    if person is None or person.insurance_type not in INSURANCE_TYPES:
        return _refused("未查询到该人员的参保信息（未参保或已停保）", 404)
    return person


def _person_view(person: Insured, day: date) -> dict[str, Any]:
    deductible, pool = person.year(day.year)
    return {
        "insurance_type": person.insurance_type,
        "insurance_type_name": TYPE_NAMES[person.insurance_type],
        "region_code": person.region_code,
        "personal_balance_fen": person.personal_balance_fen,
        "year": day.year,
        "deductible_used_fen": deductible,
        "pool_used_fen": pool,
        "chronic": [
            {
                "qualification_no": c.qualification_no,
                "disease_code": c.disease_code,
                "disease_name": c.disease_name,
                "valid_from": c.valid_from.isoformat(),
                "valid_to": c.valid_to.isoformat() if c.valid_to else None,
                "active": c.active,
            }
            for c in person.chronic.values()
        ],
    }


@router.post("/persons/query", response_model=None)
def query_person(data: PersonIn, books: BooksDep) -> dict[str, Any] | JSONResponse:
    books.count("query")
    with books.lock:
        person = _person(books, data.id_number)
        return person if isinstance(person, JSONResponse) else _person_view(person, _today())


@router.post("/chronic", response_model=None)
def register_chronic(data: ChronicIn, books: BooksDep) -> dict[str, Any] | JSONResponse:
    """Register (or change) a chronic-disease qualification; its items get a higher ratio."""
    books.count("chronic")
    if data.valid_to is not None and data.valid_to < data.valid_from:
        return _refused("资格有效期的结束日期早于开始日期")
    with books.lock:
        person = _person(books, data.id_number)
        if isinstance(person, JSONResponse):
            return person
        person.chronic[data.qualification_no] = Chronic(
            data.qualification_no,
            data.disease_code,
            data.disease_name,
            data.valid_from,
            data.valid_to,
        )
        return _person_view(person, _today())


@router.post("/chronic/revoke", response_model=None)
def revoke_chronic(data: RevokeIn, books: BooksDep) -> dict[str, Any] | JSONResponse:
    books.count("chronic")
    with books.lock:
        person = _person(books, data.id_number)
        if isinstance(person, JSONResponse):
            return person
        found = person.chronic.get(data.qualification_no)
        if found is None:
            return _refused("该人员没有这项慢特病资格", 404)
        found.active = False
        return _person_view(person, _today())


def _fingerprint(data: BillIn) -> str:
    body = data.model_dump(mode="json", exclude={"visit_date"})
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _compute(books: Books, data: BillIn, person: Insured) -> tuple[date, dict[str, Any]]:
    day = data.visit_date or _today()
    deductible_used, pool_used = person.year(day.year)
    standing = Standing(
        insurance_type=person.insurance_type,
        personal_balance_fen=person.personal_balance_fen,
        deductible_used_fen=deductible_used,
        pool_used_fen=pool_used,
        chronic=person.chronic_codes(day),
    )
    items = [Item(i.code, i.name, i.item_class, i.amount_fen, i.disease_code) for i in data.items]
    result = split(books.rules, standing, items, offsite=data.offsite)
    answer = {
        "settlement_no": data.settlement_no,
        "insurance_type": person.insurance_type,
        "insurance_type_name": TYPE_NAMES[person.insurance_type],
        "visit_kind": data.visit_kind,
        "offsite": data.offsite,
        "visit_date": day.isoformat(),
        "total_fen": result.total_fen,
        "pool_fen": result.pool_fen,
        "personal_fen": result.personal_fen,
        "cash_fen": result.cash_fen,
        "deductible_fen": result.deductible_fen,
        "personal_balance_before_fen": person.personal_balance_fen,
        "personal_balance_after_fen": person.personal_balance_fen - result.personal_fen,
        "items": [
            {**vars(p), "item_class_name": ITEM_CLASS_NAMES[p.item_class]} for p in result.items
        ],
    }
    return day, answer


@router.post("/presettle", response_model=None)
def presettle(data: BillIn, books: BooksDep) -> dict[str, Any] | JSONResponse:
    """The split of a bill as it would be settled now; nothing is kept (试算)."""
    books.count("presettle")
    with books.lock:
        person = _person(books, data.id_number)
        if isinstance(person, JSONResponse):
            return person
        return {**_compute(books, data, person)[1], "status": "presettled"}


@router.post("/settlements", response_model=None)
def settle(data: BillIn, books: BooksDep) -> Any:
    """Settle a bill once per settlement number; a repeat gets the first answer."""
    books.count("settle")
    with books.lock:
        earlier = books.settlements.get(data.settlement_no)
        if earlier is not None:
            if earlier.fingerprint != _fingerprint(data) or earlier.status != "settled":
                return _refused("结算号已用于另一张账单或已撤销", 409)
            return JSONResponse(
                {**earlier.answer, "status": earlier.status},
                headers={"Idempotent-Replayed": "true"},
            )
        person = _person(books, data.id_number)
        if isinstance(person, JSONResponse):
            return person
        day, answer = _compute(books, data, person)
        answer["settlement_id"] = books.next_id(day)
        answer["settled_at"] = datetime.now(UTC).isoformat()
        year = person.year(day.year)
        year[0] += answer["deductible_fen"]
        year[1] += answer["pool_fen"]
        person.personal_balance_fen -= answer["personal_fen"]
        books.settlements[data.settlement_no] = Settled(
            settlement_no=data.settlement_no,
            settlement_id=answer["settlement_id"],
            id_number=data.id_number,
            fingerprint=_fingerprint(data),
            year=day.year,
            deductible_fen=answer["deductible_fen"],
            pool_fen=answer["pool_fen"],
            personal_fen=answer["personal_fen"],
            answer=answer,
        )
        return JSONResponse({**answer, "status": "settled"}, status_code=201)


@router.get("/settlements/{settlement_no}", response_model=None)
def get_settlement(settlement_no: str, books: BooksDep) -> dict[str, Any] | JSONResponse:
    with books.lock:
        found = books.settlements.get(settlement_no)
        if found is None:
            return _refused("没有这笔结算", 404)
        return {**found.answer, "status": found.status}


@router.post("/settlements/{settlement_no}/cancel", response_model=None)
def cancel(settlement_no: str, books: BooksDep) -> dict[str, Any] | JSONResponse:
    """Cancel a settlement (退费): the fund's year and the personal account are restored."""
    books.count("cancel")
    with books.lock:
        found = books.settlements.get(settlement_no)
        if found is None:
            return _refused("没有这笔结算", 404)
        if found.status == "settled":
            person = books.persons[found.id_number]
            year = person.year(found.year)
            year[0] -= found.deductible_fen
            year[1] -= found.pool_fen
            person.personal_balance_fen += found.personal_fen
            found.status = "cancelled"
        return {**found.answer, "status": found.status}
