"""What tests and demos use: enrol insured persons (参保登记), read and replace the rules."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from peers.medical.rules import RulesInvalid, rules_from
from peers.medical.store import Books, Insured, books_of

router = APIRouter(prefix="/control", tags=["control"])


def _books(request: Request) -> Books:
    return books_of(request.app.state)


BooksDep = Annotated[Books, Depends(_books)]


class EnrolIn(BaseModel):
    id_number: str = Field(pattern=r"^[0-9]{17}[0-9X]$")
    name: str = Field(default="", max_length=50)
    insurance_type: Literal["employee", "resident"]
    region_code: str = Field(default="370800", pattern=r"^\d{6}$")
    personal_balance_fen: int = Field(default=0, ge=0, le=10**12)


@router.post("/persons", status_code=201)
def enrol(data: EnrolIn, books: BooksDep) -> dict[str, Any]:
    """Enrol a person (or change their insurance type and personal account balance)."""
    with books.lock:
        person = books.persons.get(data.id_number)
        if person is None:
            person = books.persons[data.id_number] = Insured(
                data.id_number, data.name, data.insurance_type, data.region_code, 0
            )
        person.name, person.insurance_type = data.name or person.name, data.insurance_type
        person.region_code = data.region_code
        person.personal_balance_fen = data.personal_balance_fen
        return {
            "insurance_type": person.insurance_type,
            "personal_balance_fen": person.personal_balance_fen,
        }


@router.get("/rules")
def get_rules(books: BooksDep) -> dict[str, Any]:
    return books.rules_raw


@router.put("/rules", response_model=None)
def put_rules(raw: dict[str, Any], books: BooksDep) -> dict[str, Any] | JSONResponse:
    """Replace the rules in force (the same document as the rules file)."""
    try:
        rules = rules_from(raw)
    except RulesInvalid as exc:
        return JSONResponse({"error": "refused", "detail": str(exc)}, status_code=422)
    with books.lock:
        books.rules, books.rules_raw = rules, raw
    return raw


@router.post("/calls")
def calls(books: BooksDep) -> dict[str, int]:
    """How many calls of each kind the system received."""
    return dict(books.calls)
