"""The counter signing page (柜台签发电子社保卡) for clerks with ``ecard.sign``.

Two steps. The clerk finds the holder's card by its number and sees its state (only an
active card can be signed). Then the clerk types the holder's name and ID number (real
name), the holder types the card PIN (real card) and, at the first signing only, chooses
the e-card PIN; the clerk confirms having checked the holder in person against the ID
document and the registry photo (real person, counter method) and chooses the channel app.
When the card's e-card exists already, signing adds a copy in the chosen channel: the
e-card PIN belongs to the e-card, so the form does not ask for one and the holder keeps it.
The page then shows the e-card with its copies.

Cards are carried between the steps by internal id, so the card number and the holder's
details appear only masked. After a refusal the page keeps what the clerk chose (the card
found, the channel, the real-person confirmation; a card number not found stays in its
box) and shows each reason beside its field; the name, ID number and PINs typed are never
sent back in a page. A refusal rolls the unit of work back (wrong card PINs still count).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from sscard.ecard import service as ecard_service
from sscard.ecard.schemas import ECardOut, SignIn
from sscard.errors import FieldProblem, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.issuance.cards import service as issuance_service
from sscard.issuance.cards.schemas import CardOut
from sscard.kit.context import Actor
from sscard.kit.masking import mask_card_number, mask_text
from sscard.web import pages
from sscard.web.pages import render
from sscard.web.registry.common import PageRefused
from sscard.web.terminal import allowed
from sscard.web.wallet import app_channels

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/ecard/counter", include_in_schema=False)
Signer = Annotated[Actor, Depends(allowed("ecard.sign"))]

INPUTS = (
    "name",
    "id_number",
    "card_pin",
    "real_person",
    "ecard_pin",
    "ecard_pin_confirm",
    "channel",
)
FIELD_OF = {
    "pin": "card_pin",
    "card_number": "card",
    "real_person.method": "real_person",
    "channel_code": "channel",
}
"""Problems the services name by their own field names, as this form names them."""
FIELD_OF_CODE = {
    "channel_not_found": ("channel", "所选渠道不存在或已停用，请重新选择"),
    "pin_locked": ("card_pin", "社会保障卡密码已锁定，请先办理密码重置"),
}
"""Refusals that name no field, placed beside the field they are about."""


def install(app: FastAPI) -> None:
    app.include_router(router)


def _page(
    request: Request,
    actor: Actor,
    session: Session,
    values: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    context_values = {
        "section": "counter",
        "errors": {},
        "values": {},
        "channels": app_channels(session),
        "mask_card_number": mask_card_number,
        **values,
    }
    response = render(
        request,
        "ecard_counter/counter.html",
        context_values,
        status_code=status_code,
        actor=actor,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _problems(exc: SSCardError) -> dict[str, Any]:
    errors: dict[str, str] = {}
    for problem in exc.fields:
        errors.setdefault(FIELD_OF.get(problem.field, problem.field), problem.reason)
    if not errors and exc.code in FIELD_OF_CODE:
        field, reason = FIELD_OF_CODE[exc.code]
        errors[field] = reason
    if isinstance(exc, ValidationFailed):
        alert = "请按标红的提示更正后再提交"
    else:
        alert = mask_text(exc.message)
    return {"errors": errors, "alert": alert}


@router.get("", response_class=HTMLResponse)
def counter(request: Request, actor: Signer, session: DbSession) -> HTMLResponse:
    """Step one: find the holder's card by its number."""
    return _page(request, actor, session, {})


@router.post("/find", response_class=HTMLResponse)
def find(
    request: Request, actor: Signer, session: DbSession, form: pages.FormFields
) -> HTMLResponse:
    """The card and its state; the signing form follows when the card is active."""
    try:
        pages.check_form_csrf(request, form.get("csrf_token"))
        number = form.get("card_number", "").strip()
        if not number:
            raise ValidationFailed([FieldProblem("card_number", "请输入社会保障卡卡号")])
        card = issuance_service.get_card(session, card_ref=number, actor=actor)
        found = issuance_service.card_out(session, card)
    except SSCardError as exc:
        errors = {"card_number": exc.fields[0].reason if exc.fields else mask_text(exc.message)}
        values = {"errors": errors, "values": {"card_number": form.get("card_number", "")[:32]}}
        page = _page(request, actor, session, values, status_code=exc.status_code)
        raise PageRefused(page) from exc
    return _page(request, actor, session, {"card": found, **_signed_before(session, card.id)})


def _signed_before(session: Session, card_id: str) -> dict[str, Any]:
    """Whether the card's e-card exists (then signing adds a channel and asks no PIN)."""
    ecard = ecard_service.ecard_of_card(session, card_id=card_id)
    copies = ecard_service.copies_of(session, ecard_id=ecard.id) if ecard else []
    return {"has_ecard": ecard is not None, "copy_channels": [c.channel_code for c in copies]}


def _missing(typed: Mapping[str, str], first: bool) -> list[FieldProblem]:
    asked = [
        ("name", "请填写持卡人姓名"),
        ("id_number", "请填写持卡人证件号码"),
        ("card_pin", "请持卡人输入社会保障卡密码"),
        ("channel", "请选择渠道"),
    ]
    if first:
        asked.insert(3, ("ecard_pin", "请持卡人设置电子社保卡密码"))
    return [FieldProblem(key, reason) for key, reason in asked if not typed[key]]


def _sign_input(form: Mapping[str, str], card_number: str, *, first: bool) -> SignIn:
    """The signing request, or ValidationFailed naming each input in a clerk's words (the
    e-card PIN only at the ``first`` signing)."""
    typed = {key: form.get(key, "").strip() for key in INPUTS}
    problems = _missing(typed, first)
    if typed["real_person"] != "confirmed":
        problems.append(FieldProblem("real_person", "请当面核对持卡人本人后勾选确认"))
    if first and typed["ecard_pin"] and typed["ecard_pin"] != typed["ecard_pin_confirm"]:
        problems.append(FieldProblem("ecard_pin_confirm", "两次输入的电子社保卡密码不一致"))
    if problems:
        raise ValidationFailed(problems)
    try:
        return SignIn(
            id_number=typed["id_number"],
            name=typed["name"],
            card_number=card_number,
            card_pin=form.get("card_pin", ""),
            channel_code=typed["channel"],
            real_person={"method": "counter"},
            ecard_pin=form.get("ecard_pin", "") if first else None,
        )
    except ValidationError as exc:
        fields = [FieldProblem(str(e["loc"][0]), "格式不正确") for e in exc.errors()]
        raise ValidationFailed(fields) from exc


@router.post("/sign", response_class=HTMLResponse)
def sign(
    request: Request, actor: Signer, session: DbSession, form: pages.FormFields
) -> HTMLResponse:
    """Sign the e-card (or add a copy in another channel) and show it with its copies."""
    try:
        card = issuance_service.get_card(session, card_ref=form.get("card_id", ""), actor=actor)
        found = issuance_service.card_out(session, card)
    except SSCardError as exc:
        errors = {"card_number": "请重新查找社会保障卡"}
        page = _page(request, actor, session, {"errors": errors}, status_code=exc.status_code)
        raise PageRefused(page) from exc
    kept = {k: form.get(k, "")[:32] for k in ("channel", "real_person")}
    before = _signed_before(session, card.id)
    try:
        pages.check_form_csrf(request, form.get("csrf_token"))
        data = _sign_input(form, card.card_number or "", first=not before["has_ecard"])
        ecard, _copy = ecard_service.sign(session, data=data, actor=actor)
        signed = ecard_service.ecard_out(session, ecard)
    except SSCardError as exc:
        values = {"card": found, "values": kept, **before, **_problems(exc)}
        raise PageRefused(
            _page(request, actor, session, values, status_code=exc.status_code)
        ) from exc
    return _page(request, actor, session, {"signed": _signed_view(signed, found)})


def _signed_view(signed: ECardOut, card: CardOut) -> dict[str, Any]:
    return {
        "ecard": signed,
        "card_number": mask_card_number(signed.card_number),
        "card_status": card.status.name,
    }
