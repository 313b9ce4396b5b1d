"""What every registry page shares: refusals, flashes, rendering, permissions, form problems.

A refused request (bad input, a missing permission, an expired form) raises
:class:`PageRefused` carrying the page to show, so the request's unit of work rolls back
exactly as it does for the API. Every page is sent with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sscard.errors import FieldProblem, NotFound, PermissionDenied, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.iam import service as iam_service
from sscard.kit import context
from sscard.kit.context import Actor, ActorKind
from sscard.kit.masking import mask_text
from sscard.registry.persons import service as persons_service
from sscard.registry.persons.schemas import PersonOut
from sscard.web import pages
from sscard.web.pages import PageActor, render

PAGE_SIZE = 20
FLASH_COOKIE = "sscard_flash"
FLASHES = {
    "person_created": "人员信息已登记",
    "person_updated": "人员信息已修改",
    "photo_saved": "照片已保存",
    "person_deceased": "已登记死亡",
    "employer_created": "单位已登记",
    "community_created": "社区已添加",
    "import_started": "文件已上传，正在导入",
    "import_done_before": "该文件此前已完整导入，本次没有再导入（要再导入请勾选“重新导入”）",
}
"""Messages shown once after a redirect; the cookie carries only the key."""
SEARCH_MODES = {
    "id": "证件号码",
    "name": "姓名和出生日期",
    "phone": "手机号码",
    "employer": "单位",
    "community": "社区",
}
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


class PageRefused(Exception):
    """A page answering a refused request; raised so that the unit of work rolls back."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def answer_refusal(_request: Request, exc: Exception) -> Response:
    return cast(PageRefused, exc).response


def _current_actor() -> Actor | None:
    actor = context.current().actor
    return actor if actor.kind is ActorKind.operator else None


def render_page(
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


def redirect_with_flash(url: str, flash: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    pages.set_cookie(response, FLASH_COOKIE, flash)
    return response


REFUSAL_TITLES = {403: "没有权限", 404: "未找到", 409: "无法完成操作"}
PERMISSION_NAMES = {
    "registry.read": "查询人员、单位与社区",
    "registry.write": "登记与修改人员、单位与社区",
    "registry.unmask": "查看人员完整信息",
    "registry.photo.read": "查看人员照片",
    "registry.import": "批量导入人员",
}


def _refusal(request: Request, exc: SSCardError) -> HTMLResponse:
    values = {
        "title": REFUSAL_TITLES.get(exc.status_code, "无法完成操作"),
        "message": mask_text(exc.message),
        "code": exc.code,
        "permission": PERMISSION_NAMES.get(getattr(exc, "permission", ""), ""),
    }
    return render_page(
        request, "refused", values, actor=_current_actor(), status_code=exc.status_code
    )


def _back_to_form(exc: SSCardError) -> bool:
    """Whether a refusal is answered with the form again (else with the refusal page)."""
    if isinstance(exc, NotFound):
        return False
    if isinstance(exc, PermissionDenied):
        return bool(exc.fields) or exc.code == "csrf_failed"
    return True


@contextmanager
def refusing(
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
Importer = Annotated[Actor, Depends(_allowed("registry.import"))]


def field_errors(problems: list[FieldProblem]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for problem in problems:
        found.setdefault(problem.field, []).append(problem.reason)
    return found


def page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) <= 100000 else 1


def optional(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


def form_problems(exc: SSCardError, inputs: set[str]) -> dict[str, Any]:
    """Field messages for the inputs the form has; the rest and the message go on top."""
    errors = field_errors(exc.fields)
    others = [
        f"{LABELS.get(p.field, p.field)}：{p.reason}" for p in exc.fields if p.field not in inputs
    ]
    if isinstance(exc, ValidationFailed):
        alert = f"有 {len(exc.fields)} 处需要修改，请按标红的提示更正后再提交"
    else:
        alert = mask_text(exc.message)
    return {"errors": errors, "others": others, "alert": alert}


def masked_person(session: DbSession, person_id: str, actor: Actor) -> PersonOut:
    person = persons_service.get_person_in_scope(session, person_id=person_id, actor=actor)
    return persons_service.person_out(session, person)
