"""Routes of instant card making (bank branches, idempotent), off-site cards, transfer, the
provincial record and a person's card information."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response, status
from fastapi.responses import JSONResponse

from sscard.httpkit.deps import DbSession, require
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.issuance.activation.schemas import ActivationOut
from sscard.issuance.cards import service as cards_service
from sscard.issuance.cards.schemas import CardOut
from sscard.issuance.instant import province_service, service
from sscard.issuance.instant.schemas import (
    InstantAccountIn,
    InstantAccountOut,
    InstantMadeIn,
    OffsiteIn,
    PersonCardsOut,
    ProvinceCancelIn,
    TransferIn,
)
from sscard.kit.context import Actor

router = APIRouter(route_class=UnitOfWorkRoute)
branch = APIRouter(route_class=UnitOfWorkRoute, prefix="/instant", tags=["instant card making"])
cards = APIRouter(route_class=UnitOfWorkRoute, prefix="/cards", tags=["cards"])

Bank = Annotated[Actor, Depends(require("issuance.bank"))]
Read = Annotated[Actor, Depends(require("issuance.read"))]
Manage = Annotated[Actor, Depends(require("issuance.manage"))]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="One key per call; a retry repeats it."),
]


def _reply(answer: service.Answer) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)


@branch.post("/accounts", response_model=InstantAccountOut, status_code=status.HTTP_201_CREATED)
def open_account(
    data: InstantAccountIn, actor: Bank, session: DbSession, key: IdempotencyKey = None
) -> JSONResponse:
    """开户: check the applicant, create the instant card and allocate its number."""
    return _reply(service.open_account(session, data=data, actor=actor, key=key))


@branch.get(
    "/cards/{card_ref}/photo",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def photo(card_ref: str, actor: Bank, session: DbSession) -> Response:
    """The applicant's photo for printing (the card's bank only, before the card is made)."""
    content = service.photo(session, card_ref=card_ref, actor=actor)
    return Response(content, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@branch.post("/cards/{card_ref}/made", response_model=CardOut)
def made(
    card_ref: str, data: InstantMadeIn, actor: Bank, session: DbSession, key: IdempotencyKey = None
) -> JSONResponse:
    """制卡: what the branch printed; the card is made and issued at the branch."""
    return _reply(service.make_card(session, card_ref=card_ref, data=data, actor=actor, key=key))


@branch.post(
    "/cards/{card_ref}/activate",
    response_model=ActivationOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def activate_at_branch(
    card_ref: str, actor: Bank, session: DbSession, key: IdempotencyKey = None
) -> JSONResponse:
    """启用: one-step activation of a card made at the branch."""
    return _reply(service.activate(session, card_ref=card_ref, actor=actor, key=key))


@cards.post("/offsite", response_model=CardOut, status_code=status.HTTP_201_CREATED)
def download_offsite(data: OffsiteIn, actor: Manage, session: DbSession) -> CardOut:
    """异地卡信息下载: record here a card another city issued to a person registered here."""
    card = province_service.download_offsite(session, id_number=data.id_number, actor=actor)
    return cards_service.card_out(session, card)


@cards.post("/{card_ref}/transfer", response_model=CardOut)
def transfer(card_ref: str, data: TransferIn, actor: Manage, session: DbSession) -> CardOut:
    """地市卡转移: move the card's management into or out of this city."""
    card = province_service.transfer(
        session, card_ref=card_ref, to_region_code=data.to_region_code, actor=actor
    )
    return cards_service.card_out(session, card)


@cards.post("/{card_ref}/province-cancel", response_model=CardOut)
def cancel_in_province(
    card_ref: str, data: ProvinceCancelIn, actor: Manage, session: DbSession
) -> CardOut:
    """注销省厅卡信息: cancel the card's provincial record (the local card cancelled first)."""
    card = province_service.cancel_in_province(
        session, card_ref=card_ref, reason=data.reason, actor=actor
    )
    return cards_service.card_out(session, card)


persons = APIRouter(route_class=UnitOfWorkRoute, prefix="/persons", tags=["cards"])


@persons.get("/{id_number}/card-info", response_model=PersonCardsOut)
def person_cards(id_number: str, actor: Read, session: DbSession) -> PersonCardsOut:
    """个人卡信息: the person's local cards and the province's records of their cards."""
    return province_service.person_cards(session, id_number=id_number, actor=actor)


for sub in (branch, cards, persons):
    router.include_router(sub)
