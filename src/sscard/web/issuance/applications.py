"""The application form (制卡申请): the applicant found by ID number, then the form."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sscard.errors import FieldProblem, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.issuance.cards import application_service, handover_service, service
from sscard.issuance.cards.schemas import ApplicationIn
from sscard.kit.context import Actor
from sscard.kit.masking import mask_text
from sscard.registry.persons import service as registry_service
from sscard.web import pages
from sscard.web.issuance.cards import offered
from sscard.web.issuance.common import (
    MODES,
    SOURCES,
    Applier,
    form_problems,
    found_or_problem,
    page,
    redirect,
    refusing,
    whole_number,
)

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/cards", include_in_schema=False)


APPLY_INPUTS = {"id_number", "photo", "source", "mode", "bank_code", "generation", "pickup_place"}


APPLY_LABELS = {
    "id_number": "申请人",
    "photo": "照片",
    "bank_code": "合作银行",
    "pickup_place": "领卡地点",
    "generation": "卡代别",
}


def _apply_page(
    request: Request, actor: Actor, values: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    context_values = {"section": "apply", "sources": SOURCES, "modes": MODES, **values}
    return page(request, "apply", context_values, actor=actor, status_code=status_code)


@router.get("/apply", response_class=HTMLResponse)
def apply_start(request: Request, actor: Applier) -> HTMLResponse:
    """Step one: find the applicant in the registry by ID number."""
    return _apply_page(request, actor, {})


@router.post("/apply", response_class=HTMLResponse)
def apply_find(
    request: Request, actor: Applier, session: DbSession, form: pages.FormFields
) -> Response:
    """The applicant by ID number (posted), then their application form by internal id."""
    typed = form.get("id_number", "").strip()

    def again(exc: SSCardError) -> HTMLResponse:
        reason = exc.fields[0].reason if exc.fields else mask_text(exc.message)
        values = {"values": {"id_number": typed}, "errors": {"find_id_number": [reason]}}
        return _apply_page(request, actor, values, status_code=exc.status_code)

    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        if not typed:
            raise ValidationFailed([FieldProblem("find_id_number", "请输入申请人证件号码")])
        person = found_or_problem(
            lambda: registry_service.get_person(session, id_number=typed, actor=actor)
        )
    return RedirectResponse(f"/cards/apply/p/{person.id}", status_code=303)


def _applicant_values(session: Session, person_id: str, actor: Actor) -> dict[str, Any]:
    """The applicant (masked), their live card if any, and the form's choices."""
    person = registry_service.get_person_in_scope(session, person_id=person_id, actor=actor)
    shown = registry_service.person_out(session, person)
    live = service.live_card(session, person_id=person.id)
    if live is not None and not service.in_scope(session, actor, live):
        live = None
    live_out = service.card_out(session, live) if live else None
    return {
        "person": shown,
        "live_card": live_out,
        "offer_ops": [k for k, _ in offered(live_out, actor)] if live_out else [],
        "banks": handover_service.cooperating_banks(
            session, region_code=shown.residence_region.code
        ),
        "pickup_places": handover_service.pickup_places(session, actor=actor),
    }


@router.get("/apply/p/{person_id}", response_class=HTMLResponse)
def apply_form(
    request: Request, person_id: str, actor: Applier, session: DbSession
) -> HTMLResponse:
    """Step two: the application form for the applicant found."""
    with refusing(request):
        values = _applicant_values(session, person_id, actor)
    start = {"source": "counter", "mode": "batch", "generation": "3"}
    if len(values["banks"]) == 1:
        start["bank_code"] = values["banks"][0].code
    return _apply_page(request, actor, {**values, "values": start})


@router.post("/apply/p/{person_id}", response_class=HTMLResponse)
def apply_posted(
    request: Request, person_id: str, actor: Applier, session: DbSession, form: pages.FormFields
) -> Response:
    """Apply; the service's refusal (no photo, deceased, live card ...) next to its field."""
    with refusing(request):
        values = _applicant_values(session, person_id, actor)

    def again(exc: SSCardError) -> HTMLResponse:
        shown = {**values, "values": form, **form_problems(exc, APPLY_INPUTS, APPLY_LABELS)}
        return _apply_page(request, actor, shown, status_code=exc.status_code)

    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        data = pages.parsed(
            ApplicationIn,
            {
                "id_number": registry_service.id_number_of(
                    session, person_id=person_id, actor=actor
                ),
                "source": form.get("source", "counter"),
                "mode": form.get("mode", "batch"),
                "bank_code": form.get("bank_code", "").strip(),
                "generation": whole_number(form.get("generation", "3")),
                "pickup_place": form.get("pickup_place", "").strip() or None,
            },
            {"bank_code": "请选择合作银行", "generation": "请选择卡代别"},
        )
        card = application_service.apply(session, data=data, actor=actor)
    return redirect(f"/cards/c/{card.id}", "applied")
