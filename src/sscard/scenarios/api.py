"""Scenario and terminal routes (应用终端系统)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from sscard.httpkit.deps import DbSession, require
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor
from sscard.scenarios import service
from sscard.scenarios.schemas import ScenarioIn, ScenarioOut, TerminalIn, TerminalOut, TerminalToken

router = APIRouter(route_class=UnitOfWorkRoute, tags=["scenarios"])
Read = Annotated[Actor, Depends(require("scenarios.read"))]
Manage = Annotated[Actor, Depends(require("scenarios.manage"))]


@router.get("/scenarios", response_model=list[ScenarioOut])
def list_scenarios(_actor: Read, session: DbSession) -> list[ScenarioOut]:
    """Scenarios and what each may see of a cardholder."""
    return service.list_scenarios(session)


@router.put("/scenarios/{code}", response_model=ScenarioOut)
def put_scenario(code: str, data: ScenarioIn, _actor: Manage, session: DbSession) -> ScenarioOut:
    """Create a scenario or change what it may see (``code`` must match the body)."""
    data = data.model_copy(update={"code": code})
    return service.upsert_scenario(session, data=data)


@router.get("/terminals", response_model=list[TerminalOut])
def list_terminals(
    _actor: Read, session: DbSession, institution_code: str | None = None
) -> list[TerminalOut]:
    return service.list_terminals(session, institution_code=institution_code)


@router.post("/terminals", response_model=TerminalToken, status_code=status.HTTP_201_CREATED)
def register_terminal(data: TerminalIn, _actor: Manage, session: DbSession) -> TerminalToken:
    """Register a terminal; its bearer token is in the answer, once."""
    return service.register_terminal(session, data=data)


@router.post("/terminals/{code}/token", response_model=TerminalToken)
def rotate_token(code: str, _actor: Manage, session: DbSession) -> TerminalToken:
    """Issue a new token for a terminal (the old one stops working)."""
    return service.rotate_terminal_token(session, code=code)


@router.post("/terminals/{code}/disable", response_model=TerminalOut)
def disable(code: str, _actor: Manage, session: DbSession) -> TerminalOut:
    return service.set_terminal_status(session, code=code, status="disabled")


@router.post("/terminals/{code}/enable", response_model=TerminalOut)
def enable(code: str, _actor: Manage, session: DbSession) -> TerminalOut:
    return service.set_terminal_status(session, code=code, status="active")
