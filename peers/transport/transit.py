"""The transport operator's card API (see docs/peers.md, "transport").

- ``POST /transit/cards/enable``: list a card as allowed on buses and the metro;
- ``POST /transit/cards/disable``: take it off again (compensation, cancelled card);
- ``GET /transit/cards/{card_number}``: the card's transit status;
- ``PUT|DELETE /control/faults``: make calls fail, for tests and demos: ``refuse`` answers
  422 (a permanent refusal, e.g. the card type carries no transit area), ``unavailable``
  answers 503, for every call or the next ``times`` calls, for every card or some.

The operator knows cards by number and card identification code only, never who holds
them. ``Idempotency-Key`` is honoured: a repeated key gets the first answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

router = APIRouter(tags=["transit"])

Answer = tuple[int, dict[str, Any]]
CardNumber = Annotated[str, Field(pattern=r"^[A-Z0-9]{9}$")]


@dataclass
class Fault:
    mode: str
    times: int | None = None
    card_numbers: frozenset[str] | None = None


@dataclass
class Register:
    """Cards and their transit status, replies to idempotency keys, faults."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    cards: dict[str, dict[str, Any]] = field(default_factory=dict)
    replies: dict[tuple[str, str], Answer] = field(default_factory=dict)
    faults: dict[str, Fault] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=lambda: {"enable": 0, "disable": 0})

    def fault_for(self, operation: str, card_number: str) -> Fault | None:
        self.calls[operation] = self.calls.get(operation, 0) + 1
        fault = self.faults.get(operation)
        if fault is None:
            return None
        if fault.card_numbers is not None and card_number not in fault.card_numbers:
            return None
        if fault.times is not None:
            if fault.times <= 0:
                return None
            fault.times -= 1
        return fault


_create_lock = threading.Lock()


def _register(request: Request) -> Register:
    with _create_lock:
        found = getattr(request.app.state, "transit_register", None)
        if found is None:
            found = request.app.state.transit_register = Register()
        return found  # type: ignore[no-any-return]


RegisterDep = Annotated[Register, Depends(_register)]
Key = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


class EnableIn(BaseModel):
    card_number: CardNumber
    card_id_code: str | None = Field(default=None, max_length=32)


class DisableIn(BaseModel):
    card_number: CardNumber


class FaultIn(BaseModel):
    operation: Literal["enable", "disable"]
    mode: Literal["refuse", "unavailable"]
    times: int | None = Field(default=None, ge=1)
    card_numbers: list[str] | None = None


def _once(register: Register, operation: str, key: str | None, action: Callable[[], Answer]) -> Any:
    with register.lock:
        if key and (operation, key) in register.replies:
            status, body = register.replies[(operation, key)]
            return JSONResponse(body, status_code=status, headers={"Idempotent-Replayed": "true"})
        status, body = action()
        if key and status < 300:
            register.replies[(operation, key)] = (status, body)
        return JSONResponse(body, status_code=status)


def _faulted(register: Register, operation: str, card_number: str) -> Answer | None:
    fault = register.fault_for(operation, card_number)
    if fault is None:
        return None
    if fault.mode == "unavailable":
        return 503, {"error": "unavailable", "detail": "交通一卡通系统维护中"}
    return 422, {"error": "refused", "detail": "该卡不支持开通交通功能"}


def _set(register: Register, card_number: str, status: str) -> Answer:
    record = register.cards.setdefault(card_number, {"card_number": card_number})
    record.update(status=status, updated_at=datetime.now(UTC).isoformat())
    return 200, dict(record)


@router.post("/transit/cards/enable")
def enable(data: EnableIn, register: RegisterDep, key: Key = None) -> Any:
    """Enable a card's transit function."""

    def action() -> Answer:
        fault = _faulted(register, "enable", data.card_number)
        if fault:
            return fault
        register.cards.setdefault(data.card_number, {"card_number": data.card_number}).update(
            card_id_code=data.card_id_code
        )
        return _set(register, data.card_number, "enabled")

    return _once(register, "enable", key, action)


@router.post("/transit/cards/disable")
def disable(data: DisableIn, register: RegisterDep, key: Key = None) -> Any:
    """Disable a card's transit function (a card never enabled is simply disabled)."""

    def action() -> Answer:
        fault = _faulted(register, "disable", data.card_number)
        if fault:
            return fault
        return _set(register, data.card_number, "disabled")

    return _once(register, "disable", key, action)


@router.get("/transit/cards/{card_number}")
def card(card_number: str, register: RegisterDep) -> Any:
    with register.lock:
        found = register.cards.get(card_number)
        if found is None:
            return JSONResponse({"error": "not_found", "detail": "无此卡"}, status_code=404)
        return {**found, "calls": dict(register.calls)}


@router.put("/control/faults", status_code=204)
def set_fault(data: FaultIn, register: RegisterDep) -> None:
    with register.lock:
        cards = frozenset(data.card_numbers) if data.card_numbers is not None else None
        register.faults[data.operation] = Fault(data.mode, data.times, cards)


@router.delete("/control/faults", status_code=204)
def clear_faults(register: RegisterDep) -> None:
    with register.lock:
        register.faults.clear()
