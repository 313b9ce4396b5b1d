"""Person search pages: by ID number (straight to the person), name and birth date, phone,
employer or community. Searches by personal data are POSTed, so it stays out of URLs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sscard.errors import FieldProblem, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.params import row_id
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor
from sscard.kit.masking import mask_text
from sscard.registry.persons import service as persons_service
from sscard.registry.persons.schemas import PersonPage
from sscard.registry.units import service as units_service
from sscard.web import pages
from sscard.web.registry.common import (
    PAGE_SIZE,
    SEARCH_MODES,
    Reader,
    field_errors,
    page_number,
    refusing,
    render_page,
)

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/registry", include_in_schema=False)


@router.get("", response_class=RedirectResponse)
def registry_home() -> RedirectResponse:
    return RedirectResponse("/registry/persons", status_code=303)


def _search_page(
    request: Request,
    actor: Actor,
    session: DbSession,
    values: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    communities, _ = units_service.list_communities(session, actor=actor, page_size=500)
    return render_page(
        request,
        "persons",
        {"section": "search", "community_options": communities, **values},
        actor=actor,
        status_code=status_code,
    )


def _search_refused(
    request: Request, actor: Actor, session: DbSession, values: dict[str, Any]
) -> Callable[[SSCardError], HTMLResponse]:
    def page(exc: SSCardError) -> HTMLResponse:
        problems = {"errors": field_errors(exc.fields), "alert": mask_text(exc.message)}
        if isinstance(exc, ValidationFailed):
            problems["alert"] = "请按提示填写查询条件"
        return _search_page(
            request, actor, session, {**values, **problems}, status_code=exc.status_code
        )

    return page


@router.get("/persons", response_class=HTMLResponse)
def person_search(
    request: Request,
    actor: Reader,
    session: DbSession,
    mode: str = "id",
    credit_code: str = "",
    employer_id: str = "",
    community_code: str = "",
    page: str = "1",
) -> HTMLResponse:
    """The search page; searches by employer or community are plain links (GET)."""
    mode = mode if mode in SEARCH_MODES else "id"
    values: dict[str, Any] = {
        "mode": mode,
        "values": {"credit_code": credit_code, "community_code": community_code},
    }
    with refusing(request, _search_refused(request, actor, session, values)):
        number = page_number(page)
        if mode == "employer" and (credit_code.strip() or row_id(employer_id) is not None):
            values |= _by_employer(session, actor, credit_code, employer_id, number)
        elif mode == "community" and community_code.strip():
            values |= _by_community(session, actor, community_code.strip(), number)
    return _search_page(request, actor, session, values)


def _by_employer(
    session: DbSession, actor: Actor, credit_code: str, employer_id: str, page: int
) -> dict[str, Any]:
    if (wanted := row_id(employer_id)) is not None:
        employer = units_service.get_employer(session, employer_id=wanted)
    else:
        employer = units_service.get_employer_by_credit_code(session, credit_code=credit_code)
    found = _found(session, actor, page, employer_id=employer.id)
    query = {"mode": "employer", "credit_code": employer.credit_code}
    return {
        "results": found,
        "scope": f"单位：{employer.name}",
        "page_query": query,
        "values": {"credit_code": employer.credit_code},
    }


def _found(session: DbSession, actor: Actor, page: int, **criteria: Any) -> PersonPage:
    """One page of the persons found; a page past the last shows the last one."""
    found = persons_service.search_persons(
        session, actor=actor, page=page, page_size=PAGE_SIZE, **criteria
    )
    last = max(1, -(-found.total // PAGE_SIZE))
    if page > last:
        found = persons_service.search_persons(
            session, actor=actor, page=last, page_size=PAGE_SIZE, **criteria
        )
    return found


def _by_community(session: DbSession, actor: Actor, code: str, page: int) -> dict[str, Any]:
    community = units_service.get_community(session, code=code)
    found = _found(session, actor, page, community_code=community.code)
    query = {"mode": "community", "community_code": community.code}
    return {"results": found, "scope": f"社区：{community.name}", "page_query": query}


@router.post("/persons", response_class=HTMLResponse)
def person_search_posted(
    request: Request, actor: Reader, session: DbSession, form: pages.FormFields
) -> Response:
    """Searches by ID number (straight to the person), name and birth date, or phone."""
    mode = form.get("mode", "id")
    mode = mode if mode in ("id", "name", "phone") else "id"
    typed = {k: form.get(k, "").strip() for k in ("id_number", "name", "birth_date", "phone")}
    values: dict[str, Any] = {"mode": mode, "values": typed}
    with refusing(request, _search_refused(request, actor, session, values)):
        pages.check_form_csrf(request, form.get("csrf_token"))
        if mode == "id":
            person = persons_service.get_person(
                session, id_number=_required(typed, "id_number", "请填写证件号码"), actor=actor
            )
            return RedirectResponse(f"/registry/persons/p/{person.id}", status_code=303)
        criteria = personal_criteria(mode, typed)
        values["results"] = _found(session, actor, page_number(form.get("page")), **criteria)
        values["posted"] = {k: v for k, v in typed.items() if v} | {"mode": mode}
    return _search_page(request, actor, session, values)


def _required(typed: Mapping[str, str], key: str, reason: str) -> str:
    if not typed.get(key):
        raise ValidationFailed([FieldProblem(key, reason)])
    return typed[key]


def personal_criteria(mode: str, typed: Mapping[str, str]) -> dict[str, Any]:
    if mode == "phone":
        return {"phone": _required(typed, "phone", "请填写手机号码")}
    problems = [] if typed["name"] else [FieldProblem("name", "请填写姓名")]
    born = _parsed_date(typed["birth_date"], "birth_date", problems, "请填写出生日期")
    if problems or born is None:
        raise ValidationFailed(problems)
    return {"name": typed["name"], "birth_date": born}


def _parsed_date(text: str, field: str, problems: list[FieldProblem], missing: str) -> date | None:
    if not text:
        problems.append(FieldProblem(field, missing))
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(FieldProblem(field, "日期格式应为 YYYY-MM-DD"))
        return None
