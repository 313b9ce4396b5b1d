"""Merchant routes (商户), limited to the operator's region."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from sscard.httpkit.deps import DbSession, require
from sscard.httpkit.params import Id, Page, PageSize
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor
from sscard.payments.merchants import qr_service, service, terminal_service
from sscard.payments.merchants.schemas import (
    BillNumber,
    MerchantCreate,
    MerchantOut,
    MerchantQrOut,
    MerchantTerminalOut,
    MerchantUpdate,
    StatusFilter,
)

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/merchants", tags=["merchants"])
Read = Annotated[Actor, Depends(require("payments.merchants.read"))]
Manage = Annotated[Actor, Depends(require("payments.merchants.manage"))]
TerminalCode = Annotated[str, Path(min_length=1, max_length=32)]


@router.post("", response_model=MerchantOut, status_code=status.HTTP_201_CREATED)
def create_merchant(data: MerchantCreate, actor: Manage, session: DbSession) -> MerchantOut:
    """Sign up a merchant; the settlement account is sealed and shown masked."""
    return service.merchant_out(service.create_merchant(session, data=data, actor=actor))


@router.get("", response_model=list[MerchantOut])
def list_merchants(
    actor: Read,
    session: DbSession,
    response: Response,
    merchant_status: Annotated[StatusFilter, Query(alias="status")] = StatusFilter.all,
    mcc: Annotated[str | None, Query(max_length=4)] = None,
    institution_code: Annotated[str | None, Query(max_length=32)] = None,
    name: Annotated[str | None, Query(max_length=100)] = None,
    page: Page = 1,
    page_size: PageSize = 20,
) -> list[MerchantOut]:
    """Merchants of the operator's region; the total is in ``X-Total-Count``."""
    found, total = service.list_merchants(
        session,
        actor=actor,
        status=merchant_status,
        mcc=mcc,
        institution_code=institution_code,
        name=name,
        page=page,
        page_size=page_size,
    )
    response.headers["X-Total-Count"] = str(total)
    return [service.merchant_out(m) for m in found]


@router.get("/{merchant_id}", response_model=MerchantOut)
def get_merchant(merchant_id: Id, actor: Read, session: DbSession) -> MerchantOut:
    return service.merchant_out(service.get_merchant(session, merchant_id=merchant_id, actor=actor))


@router.patch("/{merchant_id}", response_model=MerchantOut)
def update_merchant(
    merchant_id: Id, data: MerchantUpdate, actor: Manage, session: DbSession
) -> MerchantOut:
    """Change name, MCC, region, settlement bank or account, fee rate."""
    merchant = service.update_merchant(session, merchant_id=merchant_id, data=data, actor=actor)
    return service.merchant_out(merchant)


@router.post("/{merchant_id}/suspend", response_model=MerchantOut)
def suspend_merchant(merchant_id: Id, actor: Manage, session: DbSession) -> MerchantOut:
    """An active merchant stops accepting payments for a while (暂停)."""
    return service.merchant_out(
        service.suspend_merchant(session, merchant_id=merchant_id, actor=actor)
    )


@router.post("/{merchant_id}/close", response_model=MerchantOut)
def close_merchant(merchant_id: Id, actor: Manage, session: DbSession) -> MerchantOut:
    """Close a merchant (关闭)."""
    return service.merchant_out(
        service.close_merchant(session, merchant_id=merchant_id, actor=actor)
    )


@router.post("/{merchant_id}/reopen", response_model=MerchantOut)
def reopen_merchant(merchant_id: Id, actor: Manage, session: DbSession) -> MerchantOut:
    """A suspended or closed merchant accepts payments again (恢复)."""
    return service.merchant_out(
        service.reopen_merchant(session, merchant_id=merchant_id, actor=actor)
    )


@router.get("/{merchant_id}/terminals", response_model=list[MerchantTerminalOut])
def list_terminals(merchant_id: Id, actor: Read, session: DbSession) -> list[MerchantTerminalOut]:
    """The terminals taking payments for the merchant."""
    return terminal_service.merchant_terminals(session, merchant_id=merchant_id, actor=actor)


@router.put("/{merchant_id}/terminals/{terminal_code}", response_model=MerchantTerminalOut)
def link_terminal(
    merchant_id: Id, terminal_code: TerminalCode, actor: Manage, session: DbSession
) -> MerchantTerminalOut:
    """Let a registered terminal take payments for the merchant (again: no change)."""
    return terminal_service.link_terminal(
        session, merchant_id=merchant_id, terminal_code=terminal_code, actor=actor
    )


@router.delete("/{merchant_id}/terminals/{terminal_code}", status_code=status.HTTP_204_NO_CONTENT)
def unlink_terminal(
    merchant_id: Id, terminal_code: TerminalCode, actor: Manage, session: DbSession
) -> None:
    """Stop a terminal taking payments for the merchant."""
    terminal_service.unlink_terminal(
        session, merchant_id=merchant_id, terminal_code=terminal_code, actor=actor
    )


@router.get("/{merchant_id}/qr", response_model=MerchantQrOut)
def merchant_qr(
    merchant_id: Id,
    actor: Read,
    session: DbSession,
    amount: Annotated[str | None, Query(max_length=16, description="yuan, e.g. 12.30")] = None,
    bill_number: BillNumber | None = None,
) -> MerchantQrOut:
    """The merchant's EMVCo QR payload: static, or for one bill when ``amount`` is given."""
    return qr_service.merchant_qr(
        session, merchant_id=merchant_id, actor=actor, amount=amount, bill_number=bill_number
    )
