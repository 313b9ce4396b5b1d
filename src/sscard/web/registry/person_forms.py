"""The person register and edit forms: parsed field by field, returned with a message next
to each wrong field; personal fields left empty on the edit form keep what is stored."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from sscard.errors import FieldProblem, SSCardError
from sscard.httpkit.deps import DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor
from sscard.registry.persons import service as persons_service
from sscard.registry.persons.schemas import PersonCreate, PersonOut, PersonUpdate
from sscard.registry.units import service as units_service
from sscard.web import pages
from sscard.web.registry.common import (
    PERSON_INPUTS,
    Writer,
    form_problems,
    masked_person,
    optional,
    redirect_with_flash,
    refusing,
    render_page,
)

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/registry", include_in_schema=False)

T = TypeVar("T")


ENROLMENT_TYPES = tuple(persons_service.code_choices()["insurance_types"])
"""One row of the enrolment table per insurance type, in this order."""


def _person_reasons(form: Mapping[str, str]) -> dict[str, str]:
    """Clerk-sized reasons for the person form's parse problems."""
    reasons = {"employer_id": "请从列表中选择单位（填写单位编号）"}
    if not form.get("birth_date", "").strip():
        reasons["birth_date"] = "请填写出生日期"
    return reasons


def _enrolments(form: Mapping[str, str]) -> tuple[list[dict[str, str]], list[int]]:
    """The enrolment rows the clerk filled (a status chosen) and their row numbers."""
    rows: list[dict[str, str]] = []
    where: list[int] = []
    for n, insurance_type in enumerate(ENROLMENT_TYPES):
        status = form.get(f"enrolments.{n}.status", "").strip()
        if not status:
            continue
        row = {"insurance_type": insurance_type, "status": status}
        for key in ("start_date", "end_date"):
            if value := form.get(f"enrolments.{n}.{key}", "").strip():
                row[key] = value
        rows.append(row)
        where.append(n)
    return rows, where


def _on_rows(problems: list[FieldProblem], where: list[int]) -> list[FieldProblem]:
    """Problems of ``enrolments.<k>.x`` renamed to the form's row ``enrolments.<n>.x``."""
    renamed = []
    for problem in problems:
        parts = problem.field.split(".")
        if parts[0] == "enrolments" and len(parts) > 2 and parts[1].isdigit():
            k = int(parts[1])
            parts[1] = str(where[k]) if k < len(where) else parts[1]
        renamed.append(FieldProblem(".".join(parts), problem.reason))
    return renamed


def _on_form_rows(where: list[int], step: Callable[[], T]) -> T:
    """Run ``step``; a ValidationFailed it raises names the form's enrolment rows."""
    try:
        return step()
    except SSCardError as exc:
        exc.fields = _on_rows(exc.fields, where)
        raise


def _person_create(form: Mapping[str, str]) -> tuple[PersonCreate, list[int]]:
    rows, where = _enrolments(form)
    values: dict[str, Any] = {
        key: form.get(key, "").strip()
        for key in ("id_number", "name", "gender", "household_region_code", "residence_region_code")
    }
    for key in ("document_type", "ethnicity", "nationality", "birth_date", "phone", "address"):
        if text := optional(form.get(key)):
            values[key] = text
    values["employer_id"] = optional(form.get("employer_id"))
    values["community_code"] = optional(form.get("community_code"))
    values["enrolments"] = rows
    parse = partial(pages.parsed, PersonCreate, values, _person_reasons(form))
    return _on_form_rows(where, parse), where


def _person_update(form: Mapping[str, str]) -> tuple[PersonUpdate, list[int]]:
    """Changes from the edit form; an empty name, phone or address keeps the stored one."""
    rows, where = _enrolments(form)
    values: dict[str, Any] = {
        key: form.get(key, "").strip()
        for key in (
            "gender",
            "ethnicity",
            "birth_date",
            "nationality",
            "household_region_code",
            "residence_region_code",
        )
    }
    for key in ("name", "phone", "address"):
        if text := optional(form.get(key)):
            values[key] = text
    values["employer_id"] = optional(form.get("employer_id"))
    values["community_code"] = optional(form.get("community_code"))
    values["enrolments"] = rows
    values["version"] = form.get("version", "").strip() or None
    parse = partial(pages.parsed, PersonUpdate, values, _person_reasons(form))
    return _on_form_rows(where, parse), where


def _choices() -> dict[str, Any]:
    return {**persons_service.code_choices(), "counties": units_service.local_counties()}


def _pickers(session: DbSession, actor: Actor) -> dict[str, Any]:
    """Employers and communities of the region offered in the person form's lists."""
    employers, _ = units_service.list_employers(session, actor=actor, page_size=100)
    communities, _ = units_service.list_communities(session, actor=actor, page_size=500)
    return {"employer_options": employers, "community_options": communities}


def _person_inputs() -> set[str]:
    rows = {
        f"enrolments.{n}.{key}"
        for n in range(len(ENROLMENT_TYPES))
        for key in ("insurance_type", "status", "start_date", "end_date")
    }
    return set(PERSON_INPUTS) | rows | {"version"}


def _values_of(person: PersonOut) -> dict[str, str]:
    """The edit form's starting values: every field except the personal ones."""
    values = {
        "gender": person.gender.code,
        "ethnicity": person.ethnicity.code,
        "birth_date": person.birth_date.isoformat(),
        "nationality": person.nationality,
        "household_region_code": person.household_region.code,
        "residence_region_code": person.residence_region.code,
        "employer_id": str(person.employer.id) if person.employer else "",
        "community_code": person.community.code if person.community else "",
        "version": str(person.version),
    }
    for enrolment in person.enrolments:
        n = ENROLMENT_TYPES.index(enrolment.insurance_type.code)
        values[f"enrolments.{n}.status"] = enrolment.status.code
        values[f"enrolments.{n}.start_date"] = enrolment.start_date.isoformat()
        values[f"enrolments.{n}.end_date"] = (
            enrolment.end_date.isoformat() if enrolment.end_date else ""
        )
    return values


def _person_form(
    request: Request,
    actor: Actor,
    session: DbSession,
    values: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    section = "new" if values.get("mode") == "new" else "search"
    context_values = {
        "section": section,
        "errors": {},
        **_choices(),
        **_pickers(session, actor),
        **values,
    }
    return render_page(request, "person_form", context_values, actor=actor, status_code=status_code)


@router.get("/persons/new", response_class=HTMLResponse)
def person_new(request: Request, actor: Writer, session: DbSession) -> HTMLResponse:
    """The registration form."""
    start = {"document_type": "01", "ethnicity": "01", "nationality": "CHN"}
    return _person_form(request, actor, session, {"mode": "new", "values": start})


@router.post("/persons/new", response_class=HTMLResponse)
def person_create(
    request: Request, actor: Writer, session: DbSession, form: pages.FormFields
) -> Response:
    """Register a person; the form comes back with a message next to each wrong field."""

    def again(exc: SSCardError) -> HTMLResponse:
        values = {"mode": "new", "values": form, **form_problems(exc, _person_inputs())}
        return _person_form(request, actor, session, values, status_code=exc.status_code)

    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        data, where = _person_create(form)
        person = _on_form_rows(
            where, lambda: persons_service.create_person(session, data=data, actor=actor)
        )
    return redirect_with_flash(f"/registry/persons/p/{person.id}", "person_created")


@router.get("/persons/p/{person_id}/edit", response_class=HTMLResponse)
def person_edit(
    request: Request, person_id: str, actor: Writer, session: DbSession
) -> HTMLResponse:
    """The edit form: personal fields start empty (masked hint) and are kept when left so."""
    with refusing(request):
        person = masked_person(session, person_id, actor)
    values = {"mode": "edit", "person": person, "values": _values_of(person)}
    return _person_form(request, actor, session, values)


@router.post("/persons/p/{person_id}/edit", response_class=HTMLResponse)
def person_update(
    request: Request, person_id: str, actor: Writer, session: DbSession, form: pages.FormFields
) -> Response:
    """Save the changes; refused with the conflict message if someone saved in between."""
    with refusing(request):
        person = masked_person(session, person_id, actor)

    def again(exc: SSCardError) -> HTMLResponse:
        values = {
            "mode": "edit",
            "person": person,
            "values": form,
            "stale": exc.code == "stale_version",
            **form_problems(exc, _person_inputs()),
        }
        return _person_form(request, actor, session, values, status_code=exc.status_code)

    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        data, where = _person_update(form)
        id_number = persons_service.id_number_of(session, person_id=person_id, actor=actor)
        _on_form_rows(
            where,
            lambda: persons_service.update_person(
                session, id_number=id_number, data=data, actor=actor
            ),
        )
    return redirect_with_flash(f"/registry/persons/p/{person_id}", "person_updated")
