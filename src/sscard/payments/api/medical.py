"""Medical settlement routes (就医结算) and chronic-disease qualifications (门诊慢特病)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from sscard import db
from sscard.httpkit import gate
from sscard.httpkit.deps import DbSession, authenticate, require, require_apart
from sscard.httpkit.params import Page, PageSize
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor, ActorKind
from sscard.payments.medical import chronic_service, service, settle_service
from sscard.payments.medical.schemas import (
    BillIn,
    ChronicIn,
    ChronicOut,
    RefundIn,
    SettlementOut,
    SettlementStatus,
    SplitOut,
)

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/medical", tags=["medical"])
Read = Annotated[Actor, Depends(require("payments.medical.read"))]
SettleApart = Annotated[Actor, Depends(require_apart("payments.medical.settle"))]
SETTLE_PERMISSION = "payments.medical.settle"
ChronicApart = Annotated[Actor, Depends(require_apart("payments.medical.chronic"))]
"""For the routes whose service calls the medical system or the bank and runs its own
transactions: the actor is checked in a unit of work of its own, none is held."""
Number = Annotated[str, Path(min_length=1, max_length=24)]


def _settling(request: Request) -> Actor:
    """A hospital's or pharmacy's terminal (for its own institution, checked by the
    service) or an operator holding ``payments.medical.settle``; checked in a unit of work
    of its own, as :data:`SettleApart`."""
    with db.transaction() as session:
        actor = authenticate(request, session)
        if actor.kind is not ActorKind.terminal:
            gate.current().authorize(session, actor, SETTLE_PERMISSION)
    return actor


Settling = Annotated[Actor, Depends(_settling)]


@router.post("/settlements", response_model=SettlementOut, status_code=status.HTTP_201_CREATED)
def settle(data: BillIn, actor: Settling) -> SettlementOut:
    """Settle a bill: settled, failed (with the reason; nothing posted) or paying. A
    terminal's bearer token settles for the institution the terminal is linked to."""
    return settle_service.settle(data=data, actor=actor)


@router.post("/settlements/pre-settle", response_model=SplitOut)
def presettle(data: BillIn, actor: Settling) -> SplitOut:
    """How a bill would split now (试算); nothing is kept."""
    return settle_service.presettle(data=data, actor=actor)


@router.get("/settlements", response_model=list[SettlementOut])
def list_settlements(
    actor: Read,
    session: DbSession,
    response: Response,
    settlement_status: Annotated[SettlementStatus | None, Query(alias="status")] = None,
    merchant_code: Annotated[str | None, Query(max_length=32)] = None,
    page: Page = 1,
    page_size: PageSize = 20,
) -> list[SettlementOut]:
    """Settlements of the operator's region, newest first; the total in ``X-Total-Count``."""
    found, total = service.list_settlements(
        session,
        actor=actor,
        status=settlement_status,
        merchant_code=merchant_code,
        page=page,
        page_size=page_size,
    )
    response.headers["X-Total-Count"] = str(total)
    return found


@router.get("/settlements/{number}", response_model=SettlementOut)
def get_settlement(number: Number, actor: Read, session: DbSession) -> SettlementOut:
    return service.get_settlement(session, number=number, actor=actor)


@router.post("/settlements/{number}/refund", response_model=SettlementOut)
def refund(number: Number, data: RefundIn, actor: SettleApart) -> SettlementOut:
    """Refund a settled bill: all three parts go back (退费)."""
    return settle_service.refund(number=number, reason=data.reason, actor=actor)


@router.post("/chronic", response_model=ChronicOut, status_code=status.HTTP_201_CREATED)
def approve_chronic(data: ChronicIn, actor: ChronicApart) -> ChronicOut:
    """Approve a chronic-disease qualification; the medical system is told first."""
    return chronic_service.approve(data=data, actor=actor)


@router.get("/chronic", response_model=list[ChronicOut])
def list_chronic(
    actor: Read, session: DbSession, response: Response, page: Page = 1, page_size: PageSize = 20
) -> list[ChronicOut]:
    found, total = chronic_service.list_qualifications(
        session, actor=actor, page=page, page_size=page_size
    )
    response.headers["X-Total-Count"] = str(total)
    return found


@router.get("/chronic/{number}", response_model=ChronicOut)
def get_chronic(number: Number, actor: Read, session: DbSession) -> ChronicOut:
    return chronic_service.get_qualification(session, number=number, actor=actor)


@router.post("/chronic/{number}/revoke", response_model=ChronicOut)
def revoke_chronic(number: Number, actor: ChronicApart) -> ChronicOut:
    return chronic_service.revoke(number=number, actor=actor)
