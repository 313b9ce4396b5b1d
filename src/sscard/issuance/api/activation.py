"""Routes of one-step activation, bank change and the card account's balance and
transactions."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from sscard.httpkit.deps import DbSession, require
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.issuance.activation import bank_service, service
from sscard.issuance.activation.schemas import (
    ActivationOut,
    BalanceOut,
    BankChangeIn,
    BankTransactionOut,
)
from sscard.issuance.cards import service as cards_service
from sscard.issuance.cards.schemas import CardOut
from sscard.kit.context import Actor

router = APIRouter(route_class=UnitOfWorkRoute)
cards = APIRouter(route_class=UnitOfWorkRoute, prefix="/cards", tags=["cards"])

Read = Annotated[Actor, Depends(require("issuance.read"))]
Manage = Annotated[Actor, Depends(require("issuance.manage"))]


@cards.post(
    "/{card_ref}/activate", response_model=ActivationOut, status_code=status.HTTP_202_ACCEPTED
)
def activate(card_ref: str, actor: Manage, session: DbSession) -> ActivationOut:
    """一站式启用: activate the card, its bank account and its transport function."""
    return service.activate(session, card_ref=card_ref, actor=actor)


@cards.get("/{card_ref}/activation", response_model=ActivationOut)
def activation_progress(card_ref: str, actor: Read, session: DbSession) -> ActivationOut:
    """The progress of one-step activation, step by step, with the reason of a failure."""
    return service.get_activation(session, card_ref=card_ref, actor=actor)


@cards.post("/{card_ref}/bank-change", response_model=CardOut)
def change_bank(card_ref: str, data: BankChangeIn, actor: Manage, session: DbSession) -> CardOut:
    """换绑服务银行: the old bank unbinds, the new bank binds (3rd-generation cards)."""
    card = bank_service.change_bank(
        session, card_ref=card_ref, bank_code=data.bank_code, actor=actor, note=data.note
    )
    return cards_service.card_out(session, card)


@cards.get("/{card_ref}/bank/balance", response_model=BalanceOut)
def bank_balance(card_ref: str, actor: Read, session: DbSession) -> BalanceOut:
    """余额查询: the balance of the card's account, from its bank."""
    return bank_service.bank_balance(session, card_ref=card_ref, actor=actor)


@cards.get("/{card_ref}/bank/transactions", response_model=list[BankTransactionOut])
def bank_transactions(
    card_ref: str,
    actor: Read,
    session: DbSession,
    start_date: date | None = None,
    end_date: date | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[BankTransactionOut]:
    """交易明细查询: the card account's transactions, newest first, from its bank."""
    return bank_service.bank_transactions(
        session, card_ref=card_ref, actor=actor, start=start_date, end=end_date, limit=limit
    )


router.include_router(cards)
