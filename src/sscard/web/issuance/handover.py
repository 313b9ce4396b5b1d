"""Handover by scanning a box code (or typing a card number), and the process guide."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sscard.errors import SSCardError
from sscard.httpkit.deps import DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.issuance.cards import handover_service, receipt_service, service
from sscard.issuance.cards.schemas import CardOut, HandoverIn
from sscard.kit.context import Actor
from sscard.kit.masking import mask_text
from sscard.web import pages
from sscard.web.issuance.common import Manager, Reader, form_problems, page, redirect, refusing
from sscard.web.pages import PageActor

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/cards", include_in_schema=False)


HANDOVER_INPUTS = {"to_place", "handler", "receiver", "note"}


HANDOVER_LABELS = {
    "to_place": "交接至",
    "handler": "交出人",
    "receiver": "接收人",
    "card_number": "卡号",
    "box_code": "卡盒号",
}


def _handover_values(session: Session, code: str, actor: Actor) -> dict[str, Any]:
    """What was scanned (a box or a card), where it is, and where it can go."""
    scanned = handover_service.scan(session, code=code, actor=actor)
    cards = [service.card_out(session, c) for c in scanned.cards]
    moves = handover_service.handovers(session, card=scanned.cards[0]) if scanned.cards else []
    single = scanned.cards[0] if scanned.box_code is None and scanned.cards else None
    return {
        "latest_receipt": receipt_service.latest_receipt(session, card=single) if single else None,
        "scanned": scanned,
        "cards": cards,
        "moves": moves[-10:],
        "places": handover_service.place_names(session),
        "destinations": handover_service.handover_places(session, actor=actor),
        "status_counts": _counts(cards),
    }


def _counts(cards: list[CardOut]) -> dict[str, int]:
    found: dict[str, int] = {}
    for card in cards:
        found[card.status.code] = found.get(card.status.code, 0) + 1
    return found


def _handover_page(
    request: Request, actor: Actor, values: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    context_values = {"section": "handover", **values}
    return page(request, "handover", context_values, actor=actor, status_code=status_code)


@router.get("/handover", response_class=HTMLResponse)
def handover_page(
    request: Request, actor: Reader, session: DbSession, box: str = "", card: str = ""
) -> HTMLResponse:
    """The scan input; after a scan or a move, the box's (or card's) cards and places."""
    code = box.strip() or card.strip()
    if not code:
        return _handover_page(request, actor, {})
    with refusing(request):
        values = _handover_values(session, code, actor)
    return _handover_page(request, actor, {**values, "values": {"receiver": actor.name}})


@router.post("/handover/scan", response_class=HTMLResponse)
def handover_scan(
    request: Request, actor: Reader, session: DbSession, form: pages.FormFields
) -> Response:
    """A scanned box code (or a typed card number): to that box's (or card's) page."""
    code = form.get("code", "").strip()

    def again(exc: SSCardError) -> HTMLResponse:
        reason = exc.fields[0].reason if exc.fields else mask_text(exc.message)
        values = {"values": {"code": code}, "errors": {"code": [reason]}}
        return _handover_page(request, actor, values, status_code=exc.status_code)

    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        scanned = handover_service.scan(session, code=code, actor=actor)
    if scanned.box_code is not None:
        return RedirectResponse(f"/cards/handover?{urlencode({'box': scanned.box_code})}", 303)
    return RedirectResponse(f"/cards/handover?{urlencode({'card': scanned.cards[0].id})}", 303)


@router.post("/handover", response_class=HTMLResponse)
def handover_posted(
    request: Request, actor: Manager, session: DbSession, form: pages.FormFields
) -> Response:
    """Record the move of the whole box (or the one card) and show where each card is now."""
    box_code = form.get("box_code", "").strip()
    card_id = form.get("card_id", "").strip()
    with refusing(request):
        values = _handover_values(session, box_code or card_id, actor)

    def again(exc: SSCardError) -> HTMLResponse:
        shown = {**values, "values": form, **form_problems(exc, HANDOVER_INPUTS, HANDOVER_LABELS)}
        return _handover_page(request, actor, shown, status_code=exc.status_code)

    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        data = pages.parsed(
            HandoverIn,
            {
                "box_code": box_code or None,
                "card_number": None if box_code else card_id,
                **{k: form.get(k, "").strip() for k in ("to_place", "handler", "receiver", "note")},
            },
            {"to_place": "请选择交接至何处", "handler": "请填写交出人", "receiver": "请填写接收人"},
        )
        handover_service.handover(session, data=data, actor=actor)
    query = {"box": box_code} if box_code else {"card": card_id}
    return redirect(f"/cards/handover?{urlencode(query)}", "handover")


@router.get("/guide", response_class=HTMLResponse)
def guide(request: Request, actor: PageActor) -> HTMLResponse:
    """Batch and instant card making step by step, with the page for each step."""
    policy = service.policy()
    values = {
        "section": "guide",
        "temporary_loss_days": policy.temporary_loss_days,
        "restore_days": policy.restore_window.days,
        "max_pin_failures": policy.max_pin_failures,
    }
    return page(request, "guide", values, actor=actor)
