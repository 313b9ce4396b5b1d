"""A person's page: masked, with an audited "show full" action, the card photo, and the
confirmation step before a death is recorded. Persons are addressed by internal id."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from sscard.errors import FieldProblem, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor
from sscard.kit.masking import mask_text
from sscard.registry.persons import service as persons_service
from sscard.registry.persons.schemas import DeathIn, PersonOut, RevealIn
from sscard.registry.photos import service as photos_service
from sscard.web import pages
from sscard.web.registry.common import (
    Reader,
    Writer,
    field_errors,
    form_problems,
    masked_person,
    redirect_with_flash,
    refusing,
    render_page,
)

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/registry", include_in_schema=False)


PURPOSES = (
    "社会保障卡申领核验",
    "补换卡核验",
    "信息变更核对",
    "待遇资格认证",
    "本人到柜面查询",
)
"""Suggested purposes for showing a person's full details (a clerk may type another)."""


def _person_page(
    request: Request,
    actor: Actor,
    person: PersonOut,
    extra: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    values = {
        "section": "search",
        "person": person,
        "purposes": PURPOSES,
        "photo_rules": photos_service.photo_rules(),
        "errors": {},
        **(extra or {}),
    }
    return render_page(request, "person", values, actor=actor, status_code=status_code)


@router.get("/persons/p/{person_id}", response_class=HTMLResponse)
def person_detail(
    request: Request, person_id: str, actor: Reader, session: DbSession
) -> HTMLResponse:
    """The person, masked."""
    with refusing(request):
        person = masked_person(session, person_id, actor)
    return _person_page(request, actor, person)


@router.post("/persons/p/{person_id}/reveal", response_class=HTMLResponse)
def person_reveal(
    request: Request, person_id: str, actor: Reader, session: DbSession, form: pages.FormFields
) -> HTMLResponse:
    """The person in full, for the purpose the clerk states (audited; shown once)."""
    with refusing(request):
        masked = masked_person(session, person_id, actor)

    def again(exc: SSCardError) -> HTMLResponse:
        extra = {"errors": field_errors(exc.fields), "purpose": form.get("purpose", "")}
        if not exc.fields:
            extra["alert"] = mask_text(exc.message)
        return _person_page(request, actor, masked, extra, status_code=exc.status_code)

    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        data = pages.parsed(RevealIn, {"purpose": form.get("purpose", "")})
        id_number = persons_service.id_number_of(session, person_id=person_id, actor=actor)
        person = persons_service.reveal_person(
            session, id_number=id_number, purpose=data.purpose, actor=actor
        )
    return _person_page(request, actor, person, {"revealed_for": data.purpose})


@router.get("/persons/p/{person_id}/photo")
def person_photo(request: Request, person_id: str, actor: Reader, session: DbSession) -> Response:
    """The card photo (permission registry.photo.read; audited)."""
    with refusing(request):
        id_number = persons_service.id_number_of(session, person_id=person_id, actor=actor)
        data = photos_service.get_photo(session, id_number=id_number, actor=actor)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post("/persons/p/{person_id}/photo", response_class=HTMLResponse)
def person_photo_upload(
    request: Request,
    person_id: str,
    actor: Writer,
    session: DbSession,
    csrf_token: Annotated[str, Form()] = "",
    photo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Upload or replace the card photo."""
    with refusing(request):
        masked = masked_person(session, person_id, actor)

    def again(exc: SSCardError) -> HTMLResponse:
        extra: dict[str, Any] = {"errors": field_errors(exc.fields)}
        if not exc.fields:
            extra["alert"] = mask_text(exc.message)
        return _person_page(request, actor, masked, extra, status_code=exc.status_code)

    with refusing(request, again):
        pages.check_form_csrf(request, csrf_token)
        data = photo.file.read() if photo is not None and photo.filename else b""
        if not data:
            raise ValidationFailed([FieldProblem("photo", "请选择照片文件")])
        id_number = persons_service.id_number_of(session, person_id=person_id, actor=actor)
        photos_service.put_photo(session, id_number=id_number, data=data, actor=actor)
    return redirect_with_flash(f"/registry/persons/p/{person_id}", "photo_saved")


@router.get("/persons/p/{person_id}/death", response_class=HTMLResponse)
def person_death_form(
    request: Request, person_id: str, actor: Writer, session: DbSession
) -> HTMLResponse:
    """The confirmation step before a death is recorded."""
    with refusing(request):
        person = masked_person(session, person_id, actor)
    return _death_page(request, actor, person, {})


def _death_page(
    request: Request,
    actor: Actor,
    person: PersonOut,
    extra: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    values = {"section": "search", "person": person, "today": date.today(), "errors": {}}
    return render_page(request, "death", values | extra, actor=actor, status_code=status_code)


@router.post("/persons/p/{person_id}/death", response_class=HTMLResponse)
def person_death(
    request: Request, person_id: str, actor: Writer, session: DbSession, form: pages.FormFields
) -> Response:
    """Record the death (other components hear of it)."""
    with refusing(request):
        person = masked_person(session, person_id, actor)

    def again(exc: SSCardError) -> HTMLResponse:
        extra = {**form_problems(exc, {"death_date"}), "death_date": form.get("death_date", "")}
        return _death_page(request, actor, person, extra, status_code=exc.status_code)

    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        data = pages.parsed(DeathIn, {"death_date": form.get("death_date", "").strip() or None})
        id_number = persons_service.id_number_of(session, person_id=person_id, actor=actor)
        persons_service.mark_deceased(
            session, id_number=id_number, death_date=data.death_date, source="counter", actor=actor
        )
    return redirect_with_flash(f"/registry/persons/p/{person_id}", "person_deceased")
