"""Issuance routes: applications, card lookup and timeline, lifecycle operations, PINs,
handover, number ranges, statistics."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from sscard.httpkit.deps import DbSession, require
from sscard.httpkit.params import Id, IdFilter
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.issuance.cards import (
    application_service,
    handover_service,
    number_service,
    receipt_pdf,
    receipt_service,
    service,
    stats_service,
)
from sscard.issuance.cards.schemas import (
    ApplicationIn,
    CancelIn,
    CardDetail,
    CardOut,
    CountRow,
    HandoverIn,
    HandoverOut,
    LapseOut,
    LossIn,
    NoteIn,
    PinChangeIn,
    PinResetIn,
    PinSetIn,
    PinVerifyIn,
    RangeIn,
    RangeOut,
    ReplacementIn,
)
from sscard.kit.context import Actor

router = APIRouter(route_class=UnitOfWorkRoute)
cards = APIRouter(route_class=UnitOfWorkRoute, prefix="/cards", tags=["cards"])

Read = Annotated[Actor, Depends(require("issuance.read"))]
Apply = Annotated[Actor, Depends(require("issuance.apply"))]
Manage = Annotated[Actor, Depends(require("issuance.manage"))]
Stats = Annotated[Actor, Depends(require("issuance.stats"))]


@cards.post("/applications", response_model=CardOut, status_code=status.HTTP_201_CREATED)
def apply(data: ApplicationIn, actor: Apply, session: DbSession) -> CardOut:
    """A card application (制卡申请), registering the applicant first if ``person`` is given."""
    return service.card_out(session, application_service.apply(session, data=data, actor=actor))


@cards.get("", response_model=list[CardOut])
def cards_of_person(
    id_number: Annotated[str, Query(max_length=32)], actor: Read, session: DbSession
) -> list[CardOut]:
    """Every card a person has had, newest first."""
    found = service.cards_of_person(session, id_number=id_number, actor=actor)
    return [service.card_out(session, c) for c in found]


@cards.get("/{card_ref}", response_model=CardDetail)
def get_card(card_ref: str, actor: Read, session: DbSession) -> CardDetail:
    """A card by card number, card identification code or id, with its timeline (also a
    card at the actor's own hall or branch, whoever holds it)."""
    card = service.get_card_at_counter(session, card_ref=card_ref, actor=actor)
    return service.card_detail(session, card)


@cards.post("/{card_ref}/loss", response_model=CardOut)
def report_loss(card_ref: str, data: LossIn, actor: Manage, session: DbSession) -> CardOut:
    """Report a card lost (挂失): temporary (lapses) or formal."""
    card = service.report_loss(
        session, card_ref=card_ref, temporary=data.temporary, actor=actor, note_text=data.note
    )
    return service.card_out(session, card)


@cards.post("/{card_ref}/unlock", response_model=CardOut)
def unlock(
    card_ref: str,
    data: NoteIn,
    actor: Manage,
    session: DbSession,
    temporary: bool = False,
) -> CardOut:
    """Unlock a lost card (解挂); ``temporary=true`` lifts only a temporary loss."""
    card = service.unlock(
        session, card_ref=card_ref, actor=actor, temporary=temporary, note_text=data.note
    )
    return service.card_out(session, card)


@cards.post("/{card_ref}/cancel", response_model=CardOut)
def cancel(card_ref: str, data: CancelIn, actor: Manage, session: DbSession) -> CardOut:
    """Cancel a card or an application (注销)."""
    return service.card_out(
        session, service.cancel(session, card_ref=card_ref, reason=data.reason, actor=actor)
    )


@cards.post("/{card_ref}/restore", response_model=CardOut)
def restore(card_ref: str, actor: Manage, session: DbSession) -> CardOut:
    """Undo a cancellation made in error (注销还原)."""
    return service.card_out(session, service.restore(session, card_ref=card_ref, actor=actor))


@cards.post("/{card_ref}/replacement", response_model=CardOut, status_code=status.HTTP_201_CREATED)
def replace(card_ref: str, data: ReplacementIn, actor: Apply, session: DbSession) -> CardOut:
    """Replacement (补换卡): cancels this card and applies for the new one, together."""
    return service.card_out(
        session, application_service.replace(session, card_ref=card_ref, data=data, actor=actor)
    )


@cards.post("/{card_ref}/pin", response_model=CardOut)
def set_pin(card_ref: str, data: PinSetIn, actor: Manage, session: DbSession) -> CardOut:
    """Set the card PIN the first time."""
    card = service.set_pin(session, card_ref=card_ref, pin=data.pin.get_secret_value(), actor=actor)
    return service.card_out(session, card)


@cards.put("/{card_ref}/pin", response_model=CardOut)
def change_pin(card_ref: str, data: PinChangeIn, actor: Manage, session: DbSession) -> CardOut:
    """Change the card PIN (the old PIN proves the holder)."""
    card = service.change_pin(
        session,
        card_ref=card_ref,
        old_pin=data.old_pin.get_secret_value(),
        new_pin=data.new_pin.get_secret_value(),
        actor=actor,
    )
    return service.card_out(session, card)


@cards.post("/{card_ref}/pin/reset", response_model=CardOut)
def reset_pin(card_ref: str, data: PinResetIn, actor: Manage, session: DbSession) -> CardOut:
    """Reset the PIN at a counter after checking the holder's ID document."""
    card = service.reset_pin(
        session,
        card_ref=card_ref,
        id_number=data.id_number,
        new_pin=data.new_pin.get_secret_value(),
        actor=actor,
    )
    return service.card_out(session, card)


@cards.post("/{card_ref}/pin/verify", status_code=status.HTTP_204_NO_CONTENT)
def verify_pin(card_ref: str, data: PinVerifyIn, actor: Manage, session: DbSession) -> None:
    """Check a PIN (wrong PINs count towards the lock)."""
    card = service.get_card(session, card_ref=card_ref, actor=actor)
    service.verify_pin(session, card=card, pin=data.pin.get_secret_value())


@cards.get("/{card_ref}/handovers", response_model=list[HandoverOut])
def card_handovers(card_ref: str, actor: Read, session: DbSession) -> list[HandoverOut]:
    """Every move of the card (and of its box)."""
    card = service.get_card_at_counter(session, card_ref=card_ref, actor=actor)
    return handover_service.handovers(session, card=card)


@cards.get(
    "/{card_ref}/receipts/{event_id}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the receipt"}},
)
def receipt(card_ref: str, event_id: Id, actor: Read, session: DbSession) -> Response:
    """The counter receipt (柜面业务回执) of one operation on the card, as a PDF."""
    found = receipt_service.receipt(session, card_ref=card_ref, event_id=event_id, actor=actor)
    return pdf_response(receipt_pdf.render(found), f"receipt-{found.receipt_no}.pdf")


def pdf_response(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


handovers = APIRouter(route_class=UnitOfWorkRoute, tags=["handover"])


@handovers.post("/handovers", response_model=HandoverOut, status_code=status.HTTP_201_CREATED)
def handover(data: HandoverIn, actor: Manage, session: DbSession) -> HandoverOut:
    """Record a move of a card or a whole box (卡片交接)."""
    return handover_service.handover_out(
        session, handover_service.handover(session, data=data, actor=actor)
    )


@handovers.get("/boxes/{box_code}", response_model=list[CardOut])
def box(box_code: str, actor: Read, session: DbSession) -> list[CardOut]:
    """The cards in a box that the actor may see, by position."""
    return [
        service.card_out(session, c)
        for c in handover_service.box_contents(session, box_code=box_code, actor=actor)
    ]


ranges = APIRouter(route_class=UnitOfWorkRoute, prefix="/number-ranges", tags=["number ranges"])
Ranges = Annotated[Actor, Depends(require("issuance.ranges"))]


@ranges.get("", response_model=list[RangeOut])
def list_ranges(
    _actor: Ranges, session: DbSession, region_code: str | None = None
) -> list[RangeOut]:
    """Card number ranges and what remains of each."""
    return number_service.list_ranges(session, region_code=region_code)


@ranges.post("", response_model=RangeOut, status_code=status.HTTP_201_CREATED)
def add_range(data: RangeIn, _actor: Ranges, session: DbSession) -> RangeOut:
    """Add a block of card numbers for a region."""
    return number_service.range_out(number_service.add_range(session, data=data))


stats = APIRouter(
    route_class=UnitOfWorkRoute, prefix="/issuance/stats", tags=["issuance statistics"]
)


@stats.get("/progress", response_model=dict[str, int])
def progress(_actor: Stats, session: DbSession, batch_id: IdFilter = None) -> dict[str, int]:
    """Cards per status (making progress), for one batch or all."""
    return stats_service.making_progress(session, batch_id=batch_id)


@stats.get("/holding", response_model=list[CountRow])
def holding(
    _actor: Stats, session: DbSession, by: Literal["employer", "community"] = "employer"
) -> list[CountRow]:
    """Cards held per employer or community."""
    return stats_service.holding(session, by=by)


@stats.get("/failures", response_model=list[CountRow])
def failures(
    _actor: Stats, session: DbSession, by: Literal["employer", "community"] = "employer"
) -> list[CountRow]:
    """Open card-making failures per employer or community."""
    return stats_service.failures_by(session, by=by)


lapses = APIRouter(route_class=UnitOfWorkRoute, tags=["cards"])


@lapses.post("/lapse", response_model=LapseOut)
def lapse(_actor: Manage, session: DbSession) -> LapseOut:
    """Return temporary losses older than the configured days to ``active`` (cron-able)."""
    return LapseOut(lapsed=service.lapse_all_temporary_losses(session))


for sub in (cards, handovers, ranges, stats, lapses):
    router.include_router(sub)
