"""Ledger routes (资金总账), read-only: operators read accounts and transfers here; money
moves only through the payments services that post to the ledger."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from sscard.httpkit.deps import DbSession, require
from sscard.httpkit.params import Page, PageSize
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor
from sscard.payments.ledger import service
from sscard.payments.ledger.rules import AccountKind
from sscard.payments.ledger.schemas import AccountOut, AccountPage, TransferOut, TransferPage

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/ledger", tags=["payments"])
Read = Annotated[Actor, Depends(require("payments.ledger.read"))]
AccountCode = Annotated[str, Query(min_length=3, max_length=96, description="账户代码")]


@router.get("/accounts", response_model=AccountPage)
def list_accounts(
    actor: Read,
    session: DbSession,
    kind: AccountKind | None = None,
    page: Page = 1,
    page_size: PageSize = 50,
) -> AccountPage:
    """Accounts by code, with their totals (fen), optionally of one kind."""
    return service.list_accounts(
        session, actor=actor, kind=kind.value if kind else None, page=page, page_size=page_size
    )


@router.get("/account", response_model=AccountOut)
def get_account(actor: Read, session: DbSession, code: AccountCode) -> AccountOut:
    """One account: totals, balance and what may still be debited (``?code=merchant:M001``)."""
    return service.get_account(session, code=code, actor=actor)


@router.get("/transfers", response_model=TransferPage)
def list_transfers(
    actor: Read,
    session: DbSession,
    account: AccountCode,
    page: Page = 1,
    page_size: PageSize = 50,
) -> TransferPage:
    """An account's transfers, newest first."""
    return service.list_transfers(
        session, actor=actor, account=account, page=page, page_size=page_size
    )


@router.get("/transfers/{ref}", response_model=TransferOut)
def get_transfer(ref: str, actor: Read, session: DbSession) -> TransferOut:
    """One transfer by its reference."""
    return service.get_transfer(session, ref=ref, actor=actor)
