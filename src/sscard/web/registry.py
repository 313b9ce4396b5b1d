"""Registry pages (持卡人基础信息库) for counter clerks: person search, a person's page with
an audited "show full" action, register and edit forms, employers and communities.

Each handler parses the form, calls the registry service and renders. Persons are addressed
by internal id (``/registry/persons/p/{person_id}``), never by ID number, and searches by ID
number, name or phone are POSTed, so personal data stays out of URLs and browser history.
Every page is sent with ``Cache-Control: no-store``. A refused request (bad input, a missing
permission, an expired form) raises :class:`PageRefused` carrying the page to show, so the
request's unit of work rolls back exactly as it does for the API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from functools import partial
from typing import Annotated, Any, TypeVar, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sscard.errors import (
    FieldProblem,
    NotFound,
    PermissionDenied,
    SSCardError,
    ValidationFailed,
)
from sscard.httpkit.deps import DbSession
from sscard.iam import service as iam_service
from sscard.kit import context
from sscard.kit.context import Actor, ActorKind
from sscard.kit.masking import mask_name, mask_phone, mask_text
from sscard.registry import codes, regions
from sscard.registry import service as registry_service
from sscard.registry.errors import EmployerNotFound
from sscard.registry.schemas import (
    CommunityCreate,
    DeathIn,
    EmployerCreate,
    PersonCreate,
    PersonOut,
    PersonUpdate,
    RevealIn,
)
from sscard.settings import get_settings
from sscard.web import pages
from sscard.web.pages import PageActor, render

router = APIRouter(prefix="/registry", include_in_schema=False)

T = TypeVar("T")

PAGE_SIZE = 20
FLASH_COOKIE = "sscard_flash"
FLASHES = {
    "person_created": "人员信息已登记",
    "person_updated": "人员信息已修改",
    "photo_saved": "照片已保存",
    "person_deceased": "已登记死亡",
    "employer_created": "单位已登记",
    "community_created": "社区已添加",
}
"""Messages shown once after a redirect; the cookie carries only the key."""

PURPOSES = (
    "社会保障卡申领核验",
    "补换卡核验",
    "信息变更核对",
    "待遇资格认证",
    "本人到柜面查询",
)
"""Suggested purposes for showing a person's full details (a clerk may type another)."""

SEARCH_MODES = {
    "id": "证件号码",
    "name": "姓名和出生日期",
    "phone": "手机号码",
    "employer": "单位",
    "community": "社区",
}
ENROLMENT_TYPES = tuple(codes.INSURANCE_TYPE.entries)
"""One row of the enrolment table per insurance type, in this order."""
LABELS = {
    "document_type": "证件类型",
    "id_number": "证件号码",
    "name": "姓名",
    "gender": "性别",
    "ethnicity": "民族",
    "birth_date": "出生日期",
    "nationality": "国籍",
    "phone": "手机号码",
    "address": "联系地址",
    "household_region_code": "户籍地",
    "residence_region_code": "居住地",
    "employer_id": "单位",
    "community_code": "社区",
}
"""The person form's inputs and their labels (for problems shown above the form)."""
PERSON_INPUTS = tuple(LABELS)


# ---- refusals, flashes and rendering -------------------------------------------------


class PageRefused(Exception):
    """A page answering a refused request; raised so that the unit of work rolls back."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _refused(_request: Request, exc: Exception) -> Response:
    return cast(PageRefused, exc).response


def install(app: FastAPI) -> None:
    """Mount the registry pages and the handler that answers their refusals."""
    app.include_router(router)
    app.add_exception_handler(PageRefused, _refused)


def _current_actor() -> Actor | None:
    actor = context.current().actor
    return actor if actor.kind is ActorKind.operator else None


def _page(
    request: Request,
    name: str,
    values: dict[str, Any],
    *,
    actor: Actor | None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render ``registry/<name>.html``, never cached, with the flash message if one waits."""
    flash = FLASHES.get(request.cookies.get(FLASH_COOKIE, ""))
    response = render(
        request,
        f"registry/{name}.html",
        {"flash": flash, "search_modes": SEARCH_MODES, **values},
        status_code=status_code,
        actor=actor,
    )
    response.headers["Cache-Control"] = "no-store"
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def _redirect(url: str, flash: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    pages.set_cookie(response, FLASH_COOKIE, flash)
    return response


REFUSAL_TITLES = {403: "没有权限", 404: "未找到", 409: "无法完成操作"}
PERMISSION_NAMES = {
    "registry.read": "查询人员、单位与社区",
    "registry.write": "登记与修改人员、单位与社区",
    "registry.unmask": "查看人员完整信息",
    "registry.photo.read": "查看人员照片",
}


def _refusal(request: Request, exc: SSCardError) -> HTMLResponse:
    values = {
        "title": REFUSAL_TITLES.get(exc.status_code, "无法完成操作"),
        "message": mask_text(exc.message),
        "code": exc.code,
        "permission": PERMISSION_NAMES.get(getattr(exc, "permission", ""), ""),
    }
    return _page(request, "refused", values, actor=_current_actor(), status_code=exc.status_code)


def _back_to_form(exc: SSCardError) -> bool:
    """Whether a refusal is answered with the form again (else with the refusal page)."""
    if isinstance(exc, NotFound):
        return False
    if isinstance(exc, PermissionDenied):
        return bool(exc.fields) or exc.code == "csrf_failed"
    return True


@contextmanager
def _refusing(
    request: Request, form: Callable[[SSCardError], HTMLResponse] | None = None
) -> Iterator[None]:
    """Turn a platform error into PageRefused: the form again (``form``) or a refusal page."""
    try:
        yield
    except SSCardError as exc:
        if form is not None and _back_to_form(exc):
            raise PageRefused(form(exc)) from exc
        raise PageRefused(_refusal(request, exc)) from exc


def _allowed(permission: str) -> Callable[..., Actor]:
    """A dependency: the logged-in operator if they hold ``permission``, else a refusal page."""

    def dependency(request: Request, actor: PageActor, session: DbSession) -> Actor:
        try:
            iam_service.authorize(actor, permission)
        except PermissionDenied as exc:
            iam_service.record_denied(session, permission=permission)
            raise PageRefused(_refusal(request, exc)) from exc
        return actor

    dependency.__name__ = f"page_requires_{permission.replace('.', '_')}"
    return dependency


Reader = Annotated[Actor, Depends(_allowed("registry.read"))]
Writer = Annotated[Actor, Depends(_allowed("registry.write"))]


# ---- parsing forms -------------------------------------------------------------------


def _field_errors(problems: list[FieldProblem]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for problem in problems:
        found.setdefault(problem.field, []).append(problem.reason)
    return found


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) <= 100000 else 1


def _optional(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


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
        if text := _optional(form.get(key)):
            values[key] = text
    values["employer_id"] = _optional(form.get("employer_id"))
    values["community_code"] = _optional(form.get("community_code"))
    values["enrolments"] = rows
    parse = partial(pages.parsed, PersonCreate, values, _person_reasons(form))
    return _on_form_rows(where, parse), where


def _person_update(form: Mapping[str, str]) -> tuple[PersonUpdate, list[int]]:
    """Changes from the edit form; an empty name, phone or address keeps the stored one."""
    rows, where = _enrolments(form)
    values: dict[str, Any] = {
        key: form.get(key, "").strip()
        for key in (
            "gender", "ethnicity", "birth_date", "nationality", "household_region_code",
            "residence_region_code",
        )
    }  # fmt: skip
    for key in ("name", "phone", "address"):
        if text := _optional(form.get(key)):
            values[key] = text
    values["employer_id"] = _optional(form.get("employer_id"))
    values["community_code"] = _optional(form.get("community_code"))
    values["enrolments"] = rows
    values["version"] = form.get("version", "").strip() or None
    parse = partial(pages.parsed, PersonUpdate, values, _person_reasons(form))
    return _on_form_rows(where, parse), where


def _form_problems(exc: SSCardError, inputs: set[str]) -> dict[str, Any]:
    """Field messages for the inputs the form has; the rest and the message go on top."""
    errors = _field_errors(exc.fields)
    others = [
        f"{LABELS.get(p.field, p.field)}：{p.reason}" for p in exc.fields if p.field not in inputs
    ]
    if isinstance(exc, ValidationFailed):
        alert = f"有 {len(exc.fields)} 处需要修改，请按标红的提示更正后再提交"
    else:
        alert = mask_text(exc.message)
    return {"errors": errors, "others": others, "alert": alert}


# ---- choices shown in forms ----------------------------------------------------------


def _counties() -> list[regions.Region]:
    return regions.counties_of(get_settings().region_code)


def _choices() -> dict[str, Any]:
    return {
        "document_types": codes.DOCUMENT_TYPE.entries,
        "genders": codes.GENDER.entries,
        "ethnicities": codes.ETHNICITY.entries,
        "insurance_types": codes.INSURANCE_TYPE.entries,
        "insurance_statuses": codes.INSURANCE_STATUS.entries,
        "counties": _counties(),
    }


def _pickers(session: DbSession, actor: Actor) -> dict[str, Any]:
    """Employers and communities of the region offered in the person form's lists."""
    employers, _ = registry_service.list_employers(session, actor=actor, page_size=100)
    communities, _ = registry_service.list_communities(session, actor=actor, page_size=500)
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


# ---- person search -------------------------------------------------------------------


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
    communities, _ = registry_service.list_communities(session, actor=actor, page_size=500)
    return _page(
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
        problems = {"errors": _field_errors(exc.fields), "alert": mask_text(exc.message)}
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
    with _refusing(request, _search_refused(request, actor, session, values)):
        number = _page_number(page)
        if mode == "employer" and (credit_code.strip() or employer_id.strip().isdigit()):
            values |= _by_employer(session, actor, credit_code, employer_id, number)
        elif mode == "community" and community_code.strip():
            values |= _by_community(session, actor, community_code.strip(), number)
    return _search_page(request, actor, session, values)


def _by_employer(
    session: DbSession, actor: Actor, credit_code: str, employer_id: str, page: int
) -> dict[str, Any]:
    if employer_id.strip().isdigit():
        employer = registry_service.get_employer(session, employer_id=int(employer_id))
    else:
        employer = registry_service.get_employer_by_credit_code(session, credit_code=credit_code)
    found = registry_service.search_persons(
        session, actor=actor, employer_id=employer.id, page=page, page_size=PAGE_SIZE
    )
    query = {"mode": "employer", "employer_id": employer.id}
    return {"results": found, "scope": f"单位：{employer.name}", "page_query": query}


def _by_community(session: DbSession, actor: Actor, code: str, page: int) -> dict[str, Any]:
    community = registry_service.get_community(session, code=code)
    found = registry_service.search_persons(
        session, actor=actor, community_code=community.code, page=page, page_size=PAGE_SIZE
    )
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
    with _refusing(request, _search_refused(request, actor, session, values)):
        pages.check_form_csrf(request, form.get("csrf_token"))
        if mode == "id":
            person = registry_service.get_person(
                session, id_number=_required(typed, "id_number", "请填写证件号码"), actor=actor
            )
            return RedirectResponse(f"/registry/persons/p/{person.id}", status_code=303)
        values["results"] = registry_service.search_persons(
            session, actor=actor, page=_page_number(form.get("page")), page_size=PAGE_SIZE,
            **_personal_criteria(mode, typed),
        )  # fmt: skip
        values["posted"] = {k: v for k, v in typed.items() if v} | {"mode": mode}
    return _search_page(request, actor, session, values)


def _required(typed: Mapping[str, str], key: str, reason: str) -> str:
    if not typed.get(key):
        raise ValidationFailed([FieldProblem(key, reason)])
    return typed[key]


def _personal_criteria(mode: str, typed: Mapping[str, str]) -> dict[str, Any]:
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


# ---- a person's page -----------------------------------------------------------------


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
        "photo_rules": registry_service.photo_rules(),
        "errors": {},
        **(extra or {}),
    }
    return _page(request, "person", values, actor=actor, status_code=status_code)


def _masked(session: DbSession, person_id: str, actor: Actor) -> PersonOut:
    person = registry_service.get_person_in_scope(session, person_id=person_id, actor=actor)
    return registry_service.person_out(session, person)


@router.get("/persons/p/{person_id}", response_class=HTMLResponse)
def person_detail(
    request: Request, person_id: str, actor: Reader, session: DbSession
) -> HTMLResponse:
    """The person, masked."""
    with _refusing(request):
        person = _masked(session, person_id, actor)
    return _person_page(request, actor, person)


@router.post("/persons/p/{person_id}/reveal", response_class=HTMLResponse)
def person_reveal(
    request: Request, person_id: str, actor: Reader, session: DbSession, form: pages.FormFields
) -> HTMLResponse:
    """The person in full, for the purpose the clerk states (audited; shown once)."""
    with _refusing(request):
        masked = _masked(session, person_id, actor)

    def again(exc: SSCardError) -> HTMLResponse:
        extra = {"errors": _field_errors(exc.fields), "purpose": form.get("purpose", "")}
        if not exc.fields:
            extra["alert"] = mask_text(exc.message)
        return _person_page(request, actor, masked, extra, status_code=exc.status_code)

    with _refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        data = pages.parsed(RevealIn, {"purpose": form.get("purpose", "")})
        id_number = registry_service.id_number_of(session, person_id=person_id, actor=actor)
        person = registry_service.reveal_person(
            session, id_number=id_number, purpose=data.purpose, actor=actor
        )
    return _person_page(request, actor, person, {"revealed_for": data.purpose})


@router.get("/persons/p/{person_id}/photo")
def person_photo(request: Request, person_id: str, actor: Reader, session: DbSession) -> Response:
    """The card photo (permission registry.photo.read; audited)."""
    with _refusing(request):
        id_number = registry_service.id_number_of(session, person_id=person_id, actor=actor)
        data = registry_service.get_photo(session, id_number=id_number, actor=actor)
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
    with _refusing(request):
        masked = _masked(session, person_id, actor)

    def again(exc: SSCardError) -> HTMLResponse:
        extra: dict[str, Any] = {"errors": _field_errors(exc.fields)}
        if not exc.fields:
            extra["alert"] = mask_text(exc.message)
        return _person_page(request, actor, masked, extra, status_code=exc.status_code)

    with _refusing(request, again):
        pages.check_form_csrf(request, csrf_token)
        data = photo.file.read() if photo is not None and photo.filename else b""
        if not data:
            raise ValidationFailed([FieldProblem("photo", "请选择照片文件")])
        id_number = registry_service.id_number_of(session, person_id=person_id, actor=actor)
        registry_service.put_photo(session, id_number=id_number, data=data, actor=actor)
    return _redirect(f"/registry/persons/p/{person_id}", "photo_saved")


@router.get("/persons/p/{person_id}/death", response_class=HTMLResponse)
def person_death_form(
    request: Request, person_id: str, actor: Writer, session: DbSession
) -> HTMLResponse:
    """The confirmation step before a death is recorded."""
    with _refusing(request):
        person = _masked(session, person_id, actor)
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
    return _page(request, "death", values | extra, actor=actor, status_code=status_code)


@router.post("/persons/p/{person_id}/death", response_class=HTMLResponse)
def person_death(
    request: Request, person_id: str, actor: Writer, session: DbSession, form: pages.FormFields
) -> Response:
    """Record the death (other components hear of it)."""
    with _refusing(request):
        person = _masked(session, person_id, actor)

    def again(exc: SSCardError) -> HTMLResponse:
        extra = {**_form_problems(exc, {"death_date"}), "death_date": form.get("death_date", "")}
        return _death_page(request, actor, person, extra, status_code=exc.status_code)

    with _refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        data = pages.parsed(DeathIn, {"death_date": form.get("death_date", "").strip() or None})
        id_number = registry_service.id_number_of(session, person_id=person_id, actor=actor)
        registry_service.mark_deceased(
            session, id_number=id_number, death_date=data.death_date, source="counter", actor=actor
        )
    return _redirect(f"/registry/persons/p/{person_id}", "person_deceased")


# ---- register and edit ---------------------------------------------------------------


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
    return _page(request, "person_form", context_values, actor=actor, status_code=status_code)


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
        values = {"mode": "new", "values": form, **_form_problems(exc, _person_inputs())}
        return _person_form(request, actor, session, values, status_code=exc.status_code)

    with _refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        data, where = _person_create(form)
        person = _on_form_rows(
            where, lambda: registry_service.create_person(session, data=data, actor=actor)
        )
    return _redirect(f"/registry/persons/p/{person.id}", "person_created")


@router.get("/persons/p/{person_id}/edit", response_class=HTMLResponse)
def person_edit(
    request: Request, person_id: str, actor: Writer, session: DbSession
) -> HTMLResponse:
    """The edit form: personal fields start empty (masked hint) and are kept when left so."""
    with _refusing(request):
        person = _masked(session, person_id, actor)
    values = {"mode": "edit", "person": person, "values": _values_of(person)}
    return _person_form(request, actor, session, values)


@router.post("/persons/p/{person_id}/edit", response_class=HTMLResponse)
def person_update(
    request: Request, person_id: str, actor: Writer, session: DbSession, form: pages.FormFields
) -> Response:
    """Save the changes; refused with the conflict message if someone saved in between."""
    with _refusing(request):
        person = _masked(session, person_id, actor)

    def again(exc: SSCardError) -> HTMLResponse:
        values = {
            "mode": "edit",
            "person": person,
            "values": form,
            "stale": exc.code == "stale_version",
            **_form_problems(exc, _person_inputs()),
        }
        return _person_form(request, actor, session, values, status_code=exc.status_code)

    with _refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        data, where = _person_update(form)
        id_number = registry_service.id_number_of(session, person_id=person_id, actor=actor)
        _on_form_rows(
            where,
            lambda: registry_service.update_person(
                session, id_number=id_number, data=data, actor=actor
            ),
        )
    return _redirect(f"/registry/persons/p/{person_id}", "person_updated")


# ---- employers -----------------------------------------------------------------------


@router.get("/employers", response_class=HTMLResponse)
def employer_list(
    request: Request, actor: Reader, session: DbSession, name: str = "", page: str = "1"
) -> HTMLResponse:
    """Employers of the region, by part of the name."""
    number = _page_number(page)
    found, total = registry_service.list_employers(
        session, actor=actor, name=name.strip() or None, page=number, page_size=PAGE_SIZE
    )
    values = {
        "section": "employers",
        "name": name,
        "employers": [registry_service.employer_out(session, e) for e in found],
        "total": total,
        "page": number,
        "page_size": PAGE_SIZE,
        "page_query": {"name": name} if name else {},
        "mask_name": mask_name,
        "mask_phone": mask_phone,
    }
    return _page(request, "employers", values, actor=actor)


def _employer_form(
    request: Request, actor: Actor, values: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    context_values = {"section": "employers", "errors": {}, "counties": _counties(), **values}
    return _page(request, "employer_form", context_values, actor=actor, status_code=status_code)


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
        values = {"values": form, **_form_problems(exc, EMPLOYER_INPUTS)}
        return _employer_form(request, actor, values, status_code=exc.status_code)

    with _refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        data = pages.parsed(EmployerCreate, {k: form.get(k, "").strip() for k in EMPLOYER_INPUTS})
        employer = registry_service.create_employer(session, data=data)
    return _redirect(f"/registry/employers/{employer.id}", "employer_created")


@router.get("/employers/{employer_id}", response_class=HTMLResponse)
def employer_detail(
    request: Request, employer_id: str, actor: Reader, session: DbSession, page: str = "1"
) -> HTMLResponse:
    """The employer, with its persons of the region (paginated)."""
    number = _page_number(page)
    with _refusing(request):
        if not employer_id.isdigit():
            raise EmployerNotFound(f"单位 {employer_id[:20]} 不存在")
        employer = registry_service.get_employer(session, employer_id=int(employer_id))
        persons = registry_service.search_persons(
            session, actor=actor, employer_id=employer.id, page=number, page_size=PAGE_SIZE
        )
    values = {
        "section": "employers",
        "employer": registry_service.employer_out(session, employer),
        "results": persons,
        "page_query": {},
        "mask_name": mask_name,
        "mask_phone": mask_phone,
    }
    return _page(request, "employer", values, actor=actor)


# ---- communities ---------------------------------------------------------------------


def _townships() -> list[tuple[regions.Region, list[regions.Region]]]:
    return [(county, regions.townships_of(county.code)) for county in _counties()]


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
    found, total = registry_service.list_communities(
        session, actor=actor, township_code=township or None, page=number, page_size=PAGE_SIZE
    )
    context_values = {
        "section": "communities",
        "errors": {},
        "values": {},
        "townships": _townships(),
        "communities": [registry_service.community_out(session, c) for c in found],
        "total": total,
        "page": number,
        "page_size": PAGE_SIZE,
        "page_query": {"township_code": township} if township else {},
        **values,
    }
    return _page(request, "communities", context_values, actor=actor, status_code=status_code)


@router.get("/communities", response_class=HTMLResponse)
def community_list(
    request: Request, actor: Reader, session: DbSession, township_code: str = "", page: str = "1"
) -> HTMLResponse:
    """Communities of the region, optionally of one township, and the form to add one."""
    township = township_code.strip() if township_code.strip().isdigit() else ""
    values = {"township_code": township, "page": _page_number(page)}
    return _community_page(request, actor, session, values)


@router.post("/communities", response_class=HTMLResponse)
def community_create(
    request: Request, actor: Writer, session: DbSession, form: pages.FormFields
) -> Response:
    """Add a community under a current township or street."""

    def again(exc: SSCardError) -> HTMLResponse:
        values = {"values": form, **_form_problems(exc, {"code", "name"})}
        return _community_page(request, actor, session, values, status_code=exc.status_code)

    with _refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        data = pages.parsed(
            CommunityCreate,
            {k: form.get(k, "").strip() for k in ("code", "name")},
            {"code": "社区代码应为 12 位数字（乡镇街道代码 9 位加社区 3 位）"},
        )
        community = registry_service.create_community(session, data=data)
    query = urlencode({"township_code": community.township_code})
    return _redirect(f"/registry/communities?{query}", "community_created")
