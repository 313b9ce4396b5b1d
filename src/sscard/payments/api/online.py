"""Online banking routes (网银支付): start an order's payment on its bank's pay page, the
bank's signed notice, and the status query when no notice came."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from sscard import db
from sscard.httpkit import gate
from sscard.httpkit.deps import DbSession, authenticate, require
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor
from sscard.payments.online import service
from sscard.payments.online.schemas import NoticeAnswer, OnlinePaymentOut, StartIn, StartOut
from sscard.payments.online.signing import SIGNATURE_HEADER

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/online", tags=["payments"])
MANAGE = "payments.online.manage"
Manage = Annotated[Actor, Depends(require(MANAGE))]
OrderNo = Annotated[str, Path(min_length=1, max_length=20, description="订单号")]


@router.post("/orders/{order_no}/start", response_model=StartOut)
def start_payment(
    order_no: OrderNo, data: StartIn, request: Request, actor: Manage, session: DbSession
) -> StartOut:
    """Sign the order for the bank's pay page; ``pay_url`` is where the browser goes."""
    base = str(request.base_url).rstrip("/")
    return service.start_payment(
        session, order_no=order_no, bank_code=data.bank_code, base_url=base, actor=actor
    )


@router.get("/orders/{order_no}", response_model=OnlinePaymentOut)
def get_payment(order_no: OrderNo, actor: Manage, session: DbSession) -> OnlinePaymentOut:
    """The order's online payment: sent to the bank, paid, or refused."""
    return service.get_payment(session, order_no=order_no, actor=actor)


@router.post("/orders/{order_no}/query", response_model=OnlinePaymentOut)
async def query_bank(order_no: OrderNo, request: Request) -> OnlinePaymentOut:
    """Ask the bank about an order still waiting for its notice (a paid answer pays it).
    The bank is called outside any transaction, so the caller is checked in its own."""
    return await run_in_threadpool(_query_bank, order_no, request)


def _query_bank(order_no: str, request: Request) -> OnlinePaymentOut:
    with db.transaction() as session:
        actor = authenticate(request, session)
        gate.current().authorize(session, actor, MANAGE)
    return service.query_bank(order_no=order_no, actor=actor)


@router.post(
    "/notify",
    response_model=NoticeAnswer,
    responses={400: {"description": "not signed by the bank"}, 409: {"description": "mismatch"}},
)
async def notify(
    request: Request,
    session: DbSession,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER, max_length=300)] = None,
) -> JSONResponse:
    """A bank's signed payment notice (网银支付结果通知): the body is the signed bytes. A
    replay gets the first answer; a notice that disagrees with the order is refused (409)."""
    body = await request.body()
    answer = service.receive_notice(session, body=body, signature=signature)
    status = 200 if answer.outcome == "accepted" else 409
    return JSONResponse(answer.model_dump(), status_code=status)
