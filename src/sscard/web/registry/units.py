"""Employer and community pages: lists of the region, registration forms, an employer's persons."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from sscard.errors import SSCardError
from sscard.httpkit.deps import DbSession
from sscard.httpkit.params import row_id
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor
from sscard.kit.masking import mask_name, mask_phone
from sscard.registry.persons import service as persons_service
from sscard.registry.units import service as units_service
from sscard.registry.units.errors import EmployerNotFound
from sscard.registry.units.schemas import CommunityCreate, EmployerCreate
from sscard.web import pages
from sscard.web.registry.common import (
    PAGE_SIZE,
    Reader,
    Writer,
    form_problems,
    page_number,
    redirect_with_flash,
    refusing,
    render_page,
)

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/registry", include_in_schema=False)


@router.get("/employers", response_class=HTMLResponse)
def employer_list(
    request: Request, actor: Reader, session: DbSession, name: str = "", page: str = "1"
) -> HTMLResponse:
    """Employers of the region, by part of the name."""
    number = page_number(page)
    found, total = units_service.list_employers(
        session, actor=actor, name=name.strip() or None, page=number, page_size=PAGE_SIZE
    )
    values = {
        "section": "employers",
        "name": name,
        "employers": [units_service.employer_out(session, e) for e in found],
        "total": total,
        "page": number,
        "page_size": PAGE_SIZE,
        "page_query": {"name": name} if name else {},
        "mask_name": mask_name,
        "mask_phone": mask_phone,
    }
    return render_page(request, "employers", values, actor=actor)


def _employer_form(
    request: Request, actor: Actor, values: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    context_values = {
        "section": "employers",
        "errors": {},
        "counties": units_service.local_counties(),
        **values,
    }
    return render_page(
        request, "employer_form", context_values, actor=actor, status_code=status_code
    )


@router.get("/employers/new", response_class=HTMLResponse)
def employer_new(request: Request, actor: Writer) -> HTMLResponse:
    """The employer registration form."""
    return _employer_form(request, actor, {"values": {}})


EMPLOYER_INPUTS = {"credit_code", "name", "region_code", "address", "contact_name", "contact_phone"}


@router.post("/employers/new", response_class=HTMLResponse)
def employer_create(
    request: Request, actor: Writer, session: DbSession, form: pages.FormFields
) -> Response:
    """Register an employer; a wrong credit code is named next to its input."""

    def again(exc: SSCardError) -> HTMLResponse:
        values = {"values": form, **form_problems(exc, EMPLOYER_INPUTS)}
        return _employer_form(request, actor, values, status_code=exc.status_code)

    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        data = pages.parsed(EmployerCreate, {k: form.get(k, "").strip() for k in EMPLOYER_INPUTS})
        employer = units_service.create_employer(session, data=data)
    return redirect_with_flash(f"/registry/employers/{employer.id}", "employer_created")


@router.get("/employers/{employer_id}", response_class=HTMLResponse)
def employer_detail(
    request: Request, employer_id: str, actor: Reader, session: DbSession, page: str = "1"
) -> HTMLResponse:
    """The employer, with its persons of the region (paginated)."""
    number = page_number(page)
    with refusing(request):
        wanted = row_id(employer_id)
        if wanted is None:
            raise EmployerNotFound(f"单位 {employer_id[:20]} 不存在")
        employer = units_service.get_employer(session, employer_id=wanted)
        persons = persons_service.search_persons(
            session, actor=actor, employer_id=employer.id, page=number, page_size=PAGE_SIZE
        )
    values = {
        "section": "employers",
        "employer": units_service.employer_out(session, employer),
        "results": persons,
        "page_query": {},
        "mask_name": mask_name,
        "mask_phone": mask_phone,
    }
    return render_page(request, "employer", values, actor=actor)


def _community_page(
    request: Request,
    actor: Actor,
    session: DbSession,
    values: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    township = values.get("township_code", "")
    number = values.get("page", 1)
    found, total = units_service.list_communities(
        session, actor=actor, township_code=township or None, page=number, page_size=PAGE_SIZE
    )
    context_values = {
        "section": "communities",
        "errors": {},
        "values": {},
        "townships": units_service.local_townships(),
        "communities": [units_service.community_out(session, c) for c in found],
        "total": total,
        "page": number,
        "page_size": PAGE_SIZE,
        "page_query": {"township_code": township} if township else {},
        **values,
    }
    return render_page(request, "communities", context_values, actor=actor, status_code=status_code)


@router.get("/communities", response_class=HTMLResponse)
def community_list(
    request: Request, actor: Reader, session: DbSession, township_code: str = "", page: str = "1"
) -> HTMLResponse:
    """Communities of the region, optionally of one township, and the form to add one."""
    township = township_code.strip() if township_code.strip().isdigit() else ""
    values = {"township_code": township, "page": page_number(page)}
    return _community_page(request, actor, session, values)


@router.post("/communities", response_class=HTMLResponse)
def community_create(
    request: Request, actor: Writer, session: DbSession, form: pages.FormFields
) -> Response:
    """Add a community under a current township or street."""

    def again(exc: SSCardError) -> HTMLResponse:
        values = {"values": form, **form_problems(exc, {"code", "name"})}
        return _community_page(request, actor, session, values, status_code=exc.status_code)

    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        data = pages.parsed(
            CommunityCreate,
            {k: form.get(k, "").strip() for k in ("code", "name")},
            {"code": "社区代码应为 12 位数字（乡镇街道代码 9 位加社区 3 位）"},
        )
        community = units_service.create_community(session, data=data)
    query = urlencode({"township_code": community.township_code})
    return redirect_with_flash(f"/registry/communities?{query}", "community_created")
