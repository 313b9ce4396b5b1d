"""What every issuance page shares: names shown to clerks, rendering with the flash
message, refusals (the form again or a refusal page) and the permission dependencies."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from sscard.errors import FieldProblem, NotFound, PermissionDenied, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.iam import service as iam_service
from sscard.issuance import lifecycle
from sscard.issuance.lifecycle import Status
from sscard.kit import context
from sscard.kit.bounds import INT_MAX
from sscard.kit.context import Actor, ActorKind
from sscard.kit.masking import mask_text
from sscard.web import pages
from sscard.web.pages import PageActor, render
from sscard.web.registry.common import PageRefused

T = TypeVar("T")


FLASH_COOKIE = "sscard_card_flash"


FLASHES = {
    "applied": "制卡申请已受理",
    "temporary-loss": "已临时挂失，该卡及电子社保卡已暂停使用",
    "loss": "已正式挂失，该卡及电子社保卡已暂停使用",
    "temporary-unlock": "已解除临时挂失，卡片恢复正常",
    "unlock": "已解挂，卡片恢复正常",
    "cancel": "已注销",
    "restore": "已注销还原",
    "replace": "已受理补换卡申请，原卡已注销",
    "pin-reset": "密码已重置",
    "activate": "已提交一站式启用",
    "handover": "交接已登记",
    "failure-resolve": "制卡失败已标记为已处理",
    "failure-reopen": "制卡失败已重新打开，待处理",
    "failure-resubmit": "已重新报送，该卡将随下一批次制卡",
}
"""Messages shown once after a redirect; the cookie carries only the key."""


REFUSAL_TITLES = {403: "没有权限", 404: "未找到", 409: "无法完成操作"}


PERMISSION_NAMES = {
    "issuance.read": "查询卡片、制卡进度与交接记录",
    "issuance.apply": "受理制卡申请与补换卡",
    "issuance.manage": "挂失、解挂、注销、还原、密码重置与卡片交接",
    "issuance.batch": "批量制卡：导出批次、导入结果、处理制卡失败",
}


SOURCES = {"counter": "柜面受理", "bank": "银行网点", "online": "线上渠道", "employer": "单位批量"}


MODES = {"batch": "批量制卡", "instant": "即时制卡"}


KINDS = {"new": "新申领", "replacement": "补换卡"}


REASONS = {
    "lost": "挂失补卡",
    "damaged": "损坏换卡",
    "expired": "到期换卡",
    "info_change": "信息变更换卡",
}


STAGES = {"province": "省卡管", "bank": "银行", "vendor": "卡商"}


FAILURE_STATUSES = {"open": "待处理", "resubmitted": "已重新报送", "closed": "已处理"}


DETAIL_LABELS = {
    "note": "备注",
    "reason": "原因",
    "source": "来源",
    "mode": "方式",
    "card_number": "卡号",
    "card_id_code": "卡识别码",
    "from": "原位置",
    "to": "新位置",
    "handler": "交出人",
    "receiver": "接收人",
    "batch_no": "批次",
    "failure_id": "失败记录",
}
"""The timeline details worth showing, by the names the service records them under."""


DETAIL_VALUES = {"source": SOURCES, "mode": MODES, "reason": {**REASONS, "replacement": "补换卡"}}


STATUS_ORDER = [s.value for s in Status]


STATUS_NAMES = {s.value: name for s, name in lifecycle.STATUS_NAMES.items()}


def _current_actor() -> Actor | None:
    actor = context.current().actor
    return actor if actor.kind is ActorKind.operator else None


def page(
    request: Request,
    name: str,
    values: dict[str, Any],
    *,
    actor: Actor | None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render ``issuance/<name>.html``, never cached, with the flash message if one waits."""
    flash = FLASHES.get(request.cookies.get(FLASH_COOKIE, ""))
    response = render(
        request,
        f"issuance/{name}.html",
        {
            "flash": flash,
            "errors": {},
            "values": {},
            "status_order": STATUS_ORDER,
            "status_names": STATUS_NAMES,
            **values,
        },
        status_code=status_code,
        actor=actor,
    )
    response.headers["Cache-Control"] = "no-store"
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(url: str, flash: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    pages.set_cookie(response, FLASH_COOKIE, flash)
    return response


def refusal(request: Request, exc: SSCardError) -> HTMLResponse:
    values = {
        "title": REFUSAL_TITLES.get(exc.status_code, "无法完成操作"),
        "message": mask_text(exc.message),
        "code": exc.code,
        "permission": PERMISSION_NAMES.get(getattr(exc, "permission", ""), ""),
    }
    return page(request, "refused", values, actor=_current_actor(), status_code=exc.status_code)


def _back_to_form(exc: SSCardError) -> bool:
    """Whether a refusal is answered with the form again (else with the refusal page)."""
    if isinstance(exc, NotFound):
        return bool(exc.fields)
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
        raise PageRefused(refusal(request, exc)) from exc


def authorize(request: Request, session: Session, actor: Actor, permission: str) -> None:
    """The refusal page (and an audited denial) unless ``actor`` holds ``permission``."""
    try:
        iam_service.authorize(actor, permission)
    except PermissionDenied as exc:
        iam_service.record_denied(session, permission=permission)
        raise PageRefused(refusal(request, exc)) from exc


def _allowed(permission: str) -> Callable[..., Actor]:
    """A dependency: the logged-in operator if they hold ``permission``, else a refusal page."""

    def dependency(request: Request, actor: PageActor, session: DbSession) -> Actor:
        authorize(request, session, actor, permission)
        return actor

    dependency.__name__ = f"page_requires_{permission.replace('.', '_')}"
    return dependency


Reader = Annotated[Actor, Depends(_allowed("issuance.read"))]
StatsReader = Annotated[Actor, Depends(_allowed("issuance.stats"))]


Applier = Annotated[Actor, Depends(_allowed("issuance.apply"))]


Manager = Annotated[Actor, Depends(_allowed("issuance.manage"))]


BatchClerk = Annotated[Actor, Depends(_allowed("issuance.batch"))]


def form_problems(exc: SSCardError, inputs: set[str], labels: Mapping[str, str]) -> dict[str, Any]:
    """Field messages for the inputs the form has; the rest and the message go on top."""
    errors: dict[str, list[str]] = {}
    for problem in exc.fields:
        errors.setdefault(problem.field, []).append(problem.reason)
    others = [
        f"{labels.get(p.field, p.field)}：{p.reason}" for p in exc.fields if p.field not in inputs
    ]
    if isinstance(exc, ValidationFailed):
        alert = "请按标红的提示更正后再提交"
    else:
        alert = mask_text(exc.message)
    return {"errors": errors, "others": others, "alert": alert, "refusal_code": exc.code}


def whole_number(text: str) -> int | str:
    """A whole number as a number (for Literal choices), anything else as typed."""
    return int(text) if text.strip().isdigit() else text


def form_version(form: Mapping[str, str]) -> int | None:
    raw = form.get("version", "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and int(raw) <= INT_MAX else None


def found_or_problem(step: Callable[[], T]) -> T:
    """Run a lookup; "not found" is answered next to the input, not with a refusal page."""
    try:
        return step()
    except NotFound as exc:
        exc.fields = exc.fields or [FieldProblem("lookup", mask_text(exc.message))]
        raise
