"""Routes of instant card making (bank branches, idempotent), one-step activation, bank
change, the account's balance and transactions, off-site cards, transfer, the provincial
record, a person's card information and the lapse of temporary losses."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status
from fastapi.responses import JSONResponse

from sscard.httpkit.deps import DbSession, require
from sscard.issuance import activation, instant, service
from sscard.issuance.schemas import (
    ActivationOut,
    BalanceOut,
    BankChangeIn,
    BankTransactionOut,
    CardOut,
    InstantAccountIn,
    InstantAccountOut,
    InstantMadeIn,
    LapseOut,
    OffsiteIn,
    PersonCardsOut,
    ProvinceCancelIn,
    TransferIn,
)
from sscard.kit.context import Actor

router = APIRouter()
branch = APIRouter(prefix="/instant", tags=["instant card making"])
cards = APIRouter(prefix="/cards", tags=["cards"])

Bank = Annotated[Actor, Depends(require("issuance.bank"))]
Read = Annotated[Actor, Depends(require("issuance.read"))]
Manage = Annotated[Actor, Depends(require("issuance.manage"))]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="One key per call; a retry repeats it."),
]


def _reply(answer: instant.Answer) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)


@branch.post("/accounts", response_model=InstantAccountOut, status_code=status.HTTP_201_CREATED)
def open_account(
    data: InstantAccountIn, actor: Bank, session: DbSession, key: IdempotencyKey = None
) -> JSONResponse:
    """开户: check the applicant, create the instant card and allocate its number."""
    return _reply(instant.open_account(session, data=data, actor=actor, key=key))


@branch.get(
    "/cards/{card_ref}/photo",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def photo(card_ref: str, actor: Bank, session: DbSession) -> Response:
    """The applicant's photo for printing (the card's bank only, before the card is made)."""
    content = instant.photo(session, card_ref=card_ref, actor=actor)
    return Response(content, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@branch.post("/cards/{card_ref}/made", response_model=CardOut)
def made(
    card_ref: str, data: InstantMadeIn, actor: Bank, session: DbSession, key: IdempotencyKey = None
) -> JSONResponse:
    """制卡: what the branch printed; the card is made and issued at the branch."""
    return _reply(instant.make_card(session, card_ref=card_ref, data=data, actor=actor, key=key))


@branch.post(
    "/cards/{card_ref}/activate",
    response_model=ActivationOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def activate_at_branch(
    card_ref: str, actor: Bank, session: DbSession, key: IdempotencyKey = None
) -> JSONResponse:
    """启用: one-step activation of a card made at the branch."""
    return _reply(instant.activate(session, card_ref=card_ref, actor=actor, key=key))


@cards.post("/offsite", response_model=CardOut, status_code=status.HTTP_201_CREATED)
def download_offsite(data: OffsiteIn, actor: Manage, session: DbSession) -> CardOut:
    """异地卡信息下载: record here a card another city issued to a person registered here."""
    card = instant.download_offsite(session, id_number=data.id_number, actor=actor)
    return service.card_out(session, card)


@cards.post(
    "/{card_ref}/activate", response_model=ActivationOut, status_code=status.HTTP_202_ACCEPTED
)
def activate(card_ref: str, actor: Manage, session: DbSession) -> ActivationOut:
    """一站式启用: activate the card, its bank account and its transport function."""
    return activation.activate(session, card_ref=card_ref, actor=actor)


@cards.get("/{card_ref}/activation", response_model=ActivationOut)
def activation_progress(card_ref: str, actor: Read, session: DbSession) -> ActivationOut:
    """The progress of one-step activation, step by step, with the reason of a failure."""
    return activation.get_activation(session, card_ref=card_ref, actor=actor)


@cards.post("/{card_ref}/bank-change", response_model=CardOut)
def change_bank(card_ref: str, data: BankChangeIn, actor: Manage, session: DbSession) -> CardOut:
    """换绑服务银行: the old bank unbinds, the new bank binds (3rd-generation cards)."""
    card = activation.change_bank(
        session, card_ref=card_ref, bank_code=data.bank_code, actor=actor, note=data.note
    )
    return service.card_out(session, card)


@cards.get("/{card_ref}/bank/balance", response_model=BalanceOut)
def bank_balance(card_ref: str, actor: Read, session: DbSession) -> BalanceOut:
    """余额查询: the balance of the card's account, from its bank."""
    return activation.bank_balance(session, card_ref=card_ref, actor=actor)


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
    return activation.bank_transactions(
        session, card_ref=card_ref, actor=actor, start=start_date, end=end_date, limit=limit
    )


@cards.post("/{card_ref}/transfer", response_model=CardOut)
def transfer(card_ref: str, data: TransferIn, actor: Manage, session: DbSession) -> CardOut:
    """地市卡转移: move the card's management into or out of this city."""
    card = instant.transfer(
        session, card_ref=card_ref, to_region_code=data.to_region_code, actor=actor
    )
    return service.card_out(session, card)


@cards.post("/{card_ref}/province-cancel", response_model=CardOut)
def cancel_in_province(
    card_ref: str, data: ProvinceCancelIn, actor: Manage, session: DbSession
) -> CardOut:
    """注销省厅卡信息: cancel the card's provincial record (the local card cancelled first)."""
    card = instant.cancel_in_province(session, card_ref=card_ref, reason=data.reason, actor=actor)
    return service.card_out(session, card)


persons = APIRouter(prefix="/persons", tags=["cards"])


@persons.get("/{id_number}/card-info", response_model=PersonCardsOut)
def person_cards(id_number: str, actor: Read, session: DbSession) -> PersonCardsOut:
    """个人卡信息: the person's local cards and the province's records of their cards."""
    return instant.person_cards(session, id_number=id_number, actor=actor)


lapses = APIRouter(tags=["cards"])


@lapses.post("/lapse", response_model=LapseOut)
def lapse(_actor: Manage, session: DbSession) -> LapseOut:
    """Return temporary losses older than the configured days to ``active`` (cron-able)."""
    return LapseOut(lapsed=service.lapse_all_temporary_losses(session))


for sub in (branch, cards, persons, lapses):
    router.include_router(sub)
