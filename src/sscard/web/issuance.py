"""Card issuance pages (社会保障卡发行管理) for counter clerks and card managers: the
application form, card lookup with the status timeline, loss / unlock / cancel / restore /
replacement / PIN reset / activation each behind a confirmation step, batches with their
progress and card-making failures, statistics, handover by scanning a box code, and the
process guide.

Each handler parses the form, calls the issuance service and renders. Cards are addressed
by internal id (``/cards/c/{card_id}``) and applicants by the registry's internal id; ID
numbers and card numbers typed by a clerk are POSTed, so they stay out of URLs and browser
history. Every page is sent with ``Cache-Control: no-store``. A refused request raises
:class:`~sscard.web.registry.common.PageRefused` carrying the page to show, so the request's unit
of work rolls back exactly as it does for the API. A confirmation carries the card's
version: if someone changed the card in between, the clerk is told so (409) instead of
acting on what they no longer see.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any, TypeVar, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sscard.api.deps import DbSession
from sscard.errors import FieldProblem, NotFound, PermissionDenied, SSCardError, ValidationFailed
from sscard.iam import service as iam_service
from sscard.issuance import activation, batches, instant, lifecycle, service
from sscard.issuance.errors import TransitionNotAllowed
from sscard.issuance.lifecycle import Status
from sscard.issuance.schemas import (
    ApplicationIn,
    CancelIn,
    CardOut,
    HandoverIn,
    LossIn,
    NoteIn,
    PinResetIn,
    ReplacementIn,
)
from sscard.kit import context
from sscard.kit.context import Actor, ActorKind
from sscard.kit.masking import mask_id_number, mask_text
from sscard.registry.persons import service as registry_service
from sscard.registry.units import service as registry_units
from sscard.web import pages
from sscard.web.pages import PageActor, render
from sscard.web.registry.common import PageRefused

router = APIRouter(prefix="/cards", include_in_schema=False)

T = TypeVar("T")

BEIJING = timezone(timedelta(hours=8))
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
    "failure-resolve": "制卡失败已处理",
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
    "note": "备注", "reason": "原因", "source": "来源", "mode": "方式", "card_number": "卡号",
    "card_id_code": "卡识别码", "from": "原位置", "to": "新位置", "handler": "交出人",
    "receiver": "接收人", "batch_no": "批次", "failure_id": "失败记录",
}  # fmt: skip
"""The timeline details worth showing, by the names the service records them under."""
DETAIL_VALUES = {"source": SOURCES, "mode": MODES, "reason": {**REASONS, "replacement": "补换卡"}}

STATUS_ORDER = [s.value for s in Status]
STATUS_NAMES = {s.value: name for s, name in lifecycle.STATUS_NAMES.items()}


# ---- refusals, flashes and rendering -------------------------------------------------


async def _refused(_request: Request, exc: Exception) -> Response:
    return cast(PageRefused, exc).response


def install(app: FastAPI) -> None:
    """Mount the issuance pages and the handler that answers their refusals."""
    app.include_router(router)
    app.add_exception_handler(PageRefused, _refused)


def _current_actor() -> Actor | None:
    actor = context.current().actor
    return actor if actor.kind is ActorKind.operator else None


def _at(value: datetime | None, seconds: bool = False) -> str:
    """A time as Beijing time, for people at a counter in China."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _page(
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
            "at": _at,
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


def _redirect(url: str, flash: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    pages.set_cookie(response, FLASH_COOKIE, flash)
    return response


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
        return bool(exc.fields)
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


def _authorize(request: Request, session: Session, actor: Actor, permission: str) -> None:
    """The refusal page (and an audited denial) unless ``actor`` holds ``permission``."""
    try:
        iam_service.authorize(actor, permission)
    except PermissionDenied as exc:
        iam_service.record_denied(session, permission=permission)
        raise PageRefused(_refusal(request, exc)) from exc


def _allowed(permission: str) -> Callable[..., Actor]:
    """A dependency: the logged-in operator if they hold ``permission``, else a refusal page."""

    def dependency(request: Request, actor: PageActor, session: DbSession) -> Actor:
        _authorize(request, session, actor, permission)
        return actor

    dependency.__name__ = f"page_requires_{permission.replace('.', '_')}"
    return dependency


Reader = Annotated[Actor, Depends(_allowed("issuance.read"))]
Applier = Annotated[Actor, Depends(_allowed("issuance.apply"))]
Manager = Annotated[Actor, Depends(_allowed("issuance.manage"))]
BatchClerk = Annotated[Actor, Depends(_allowed("issuance.batch"))]


def _problems(exc: SSCardError, inputs: set[str], labels: Mapping[str, str]) -> dict[str, Any]:
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


def _number(text: str) -> int | str:
    """A whole number as a number (for Literal choices), anything else as typed."""
    return int(text) if text.strip().isdigit() else text


def _version(form: Mapping[str, str]) -> int | None:
    raw = form.get("version", "").strip()
    return int(raw) if raw.isdigit() else None


# ---- card lookup ---------------------------------------------------------------------

LOOKUP_MODES = {"card": "卡号或卡识别码", "person": "证件号码"}


def _lookup_page(
    request: Request, actor: Actor, values: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    context_values = {"section": "lookup", "modes": LOOKUP_MODES, "mode": "card", **values}
    return _page(request, "lookup", context_values, actor=actor, status_code=status_code)


@router.get("", response_class=HTMLResponse)
def lookup(request: Request, actor: Reader, mode: str = "card") -> HTMLResponse:
    """Find a card by its number or identification code, or a person's cards."""
    return _lookup_page(request, actor, {"mode": mode if mode in LOOKUP_MODES else "card"})


@router.post("", response_class=HTMLResponse)
def lookup_posted(
    request: Request, actor: Reader, session: DbSession, form: pages.FormFields
) -> Response:
    """A card straight to its page; a person's local and provincial cards as a list."""
    mode = form.get("mode", "card") if form.get("mode") in LOOKUP_MODES else "card"
    typed = {"card_ref": form.get("card_ref", "").strip()}

    def again(exc: SSCardError) -> HTMLResponse:
        field = "card_ref" if mode == "card" else "id_number"
        reason = exc.fields[0].reason if exc.fields else mask_text(exc.message)
        values = {"mode": mode, "values": typed, "errors": {field: [reason]}}
        return _lookup_page(request, actor, values, status_code=exc.status_code)

    with _refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        if mode == "card":
            if not typed["card_ref"]:
                raise ValidationFailed([FieldProblem("card_ref", "请输入卡号或卡识别码")])
            card = _found(
                lambda: service.get_card(session, card_ref=typed["card_ref"], actor=actor)
            )
            return RedirectResponse(f"/cards/c/{card.id}", status_code=303)
        id_number = form.get("id_number", "").strip()
        if not id_number:
            raise ValidationFailed([FieldProblem("id_number", "请输入证件号码")])
        found = _found(lambda: instant.person_cards(session, id_number=id_number, actor=actor))
    values = {"mode": mode, "found": found, "searched": mask_id_number(id_number.upper())}
    return _lookup_page(request, actor, values)


def _found(step: Callable[[], T]) -> T:
    """Run a lookup; "not found" is answered next to the input, not with a refusal page."""
    try:
        return step()
    except NotFound as exc:
        exc.fields = exc.fields or [FieldProblem("lookup", mask_text(exc.message))]
        raise


# ---- a card's page -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Op:
    """A counter operation on one card, behind a confirmation page."""

    title: str
    permission: str
    offered: Callable[[CardOut], bool]
    consequence: str
    danger: bool = False


def _can(action: str) -> Callable[[CardOut], bool]:
    return lambda card: action in card.allowed_actions


_HELD = {Status.issued.value, Status.active.value, Status.temporarily_lost.value, Status.lost.value}

OPS: dict[str, Op] = {
    "activate": Op(
        "一站式启用", "issuance.manage", _can("activate"),
        "一次办结：依次开通银行账户、交通功能，全部完成后社保卡状态变为“正常”，持卡人无需再到"
        "银行和交通部门分别办理。办理进度可在卡片页面查看。",
    ),
    "temporary-loss": Op(
        "临时挂失", "issuance.manage", _can("report_temporary_loss"),
        "临时挂失后该卡及电子社保卡将暂停使用。{days} 天内未解挂的到期自动解除，卡片恢复正常；"
        "如确已遗失，请办理正式挂失。",
    ),
    "loss": Op(
        "正式挂失", "issuance.manage", _can("report_loss"),
        "正式挂失后该卡及电子社保卡将暂停使用，直至持卡人本人持有效身份证件到柜台办理解挂。"
        "如需新卡，可在挂失后办理补换卡。", danger=True,
    ),
    "temporary-unlock": Op(
        "解除临时挂失", "issuance.manage", _can("temporary_unlock"),
        "解除临时挂失后该卡及电子社保卡恢复正常使用。",
    ),
    "unlock": Op(
        "解挂", "issuance.manage",
        lambda card: card.status.code == Status.lost.value and "unlock" in card.allowed_actions,
        "解挂后该卡及电子社保卡恢复正常使用。请先核验持卡人本人的有效身份证件。",
    ),
    "pin-reset": Op(
        "重置密码", "issuance.manage",
        lambda card: card.status.code in _HELD and card.card_number is not None,
        "请先核验持卡人本人的有效身份证件。重置后原密码失效，密码错误次数清零，密码锁定解除。",
    ),
    "replace": Op(
        "补换卡", "issuance.apply", lambda card: card.status.code in _HELD,
        "确认后原卡立即注销（电子社保卡同时注销），并为持卡人受理一张补换卡；新卡制成并发放前，"
        "持卡人暂无可用的社会保障卡。", danger=True,
    ),
    "cancel": Op(
        "注销", "issuance.manage", _can("cancel"),
        "注销后该卡（或该申请）不能再使用，电子社保卡同时注销。如属误操作，注销后 {window} 天内、"
        "未补换新卡的可以注销还原。", danger=True,
    ),
    "restore": Op(
        "注销还原", "issuance.manage", _can("restore"),
        "注销还原后该卡恢复到注销前的状态（{before}），电子社保卡随之恢复。仅限注销后 {window} 天"
        "内、未补换新卡且持卡人没有其他有效卡的情形。",
    ),
}  # fmt: skip
"""The operations a card page offers, in the order its buttons are shown."""


def _offered(card: CardOut, actor: Actor) -> list[tuple[str, Op]]:
    return [(k, op) for k, op in OPS.items() if op.offered(card) and actor.can(op.permission)]


def _card_values(session: Session, card_id: str, actor: Actor) -> dict[str, Any]:
    """Everything a card page shows: the card and timeline, moves, activation, place names."""
    card = service.get_card(session, card_ref=card_id, actor=actor)
    detail = service.card_detail(session, card)
    return {
        "card": detail,
        "handovers": service.handovers(session, card=card),
        "activation": activation.activation_out(session, card),
        "places": service.place_names(session),
        "ops": _offered(detail, actor),
        "kinds": KINDS,
        "sources": SOURCES,
        "modes": MODES,
        "reasons": REASONS,
        "detail_labels": DETAIL_LABELS,
        "detail_values": DETAIL_VALUES,
    }


@router.get("/c/{card_id}", response_class=HTMLResponse)
def card_page(request: Request, card_id: str, actor: Reader, session: DbSession) -> HTMLResponse:
    """The card: status, holder (masked), bank, box and place, timeline, moves, operations."""
    with _refusing(request):
        values = _card_values(session, card_id, actor)
    return _page(request, "card", {"section": "lookup", **values}, actor=actor)


def _consequence(op: Op, card: Any) -> str:
    policy = service.policy()
    cancels = [e for e in card.timeline if e.action == "cancel" and e.from_status]
    before = STATUS_NAMES.get(cancels[-1].from_status, "") if cancels else ""
    return op.consequence.format(
        days=policy.temporary_loss_days, window=policy.restore_window.days, before=before
    )


def _confirm_values(session: Session, card_id: str, key: str, actor: Actor) -> dict[str, Any]:
    values = _card_values(session, card_id, actor)
    op = OPS[key]
    values |= {
        "section": "lookup",
        "key": key,
        "op": op,
        "consequence": _consequence(op, values["card"]),
    }
    if key == "replace":
        holder = registry_service.holder_brief(session, person_id=values["card"].person_id)
        values["banks"] = service.cooperating_banks(
            session, region_code=holder.residence_region_code
        )
        values["pickup_places"] = service.pickup_places(session, actor=actor)
    return values


def _op_key(key: str) -> str:
    if key not in OPS:
        raise NotFound("没有这项业务", code="not_found")
    return key


@router.get("/c/{card_id}/{key}", response_class=HTMLResponse)
def confirm_page(
    request: Request, card_id: str, key: str, actor: Reader, session: DbSession
) -> HTMLResponse:
    """The confirmation step: what will happen, and the inputs the operation needs."""
    with _refusing(request):
        _authorize(request, session, actor, OPS[_op_key(key)].permission)
        values = _confirm_values(session, card_id, key, actor)
    if key not in {k for k, _ in values["ops"]}:
        values["unavailable"] = True
    return _page(request, "confirm", values, actor=actor)


OP_INPUTS = {"note", "reason", "mode", "bank_code", "pickup_place", "id_number", "new_pin",
             "new_pin_confirm"}  # fmt: skip
OP_LABELS = {"new_pin": "新密码", "id_number": "证件号码", "reason": "原因", "pin": "密码"}


@router.post("/c/{card_id}/{key}", response_class=HTMLResponse)
def confirm_posted(
    request: Request,
    card_id: str,
    key: str,
    actor: Reader,
    session: DbSession,
    form: pages.FormFields,
) -> Response:
    """Do the operation; refused with the service's reason shown on the confirmation page."""
    with _refusing(request):
        _authorize(request, session, actor, OPS[_op_key(key)].permission)
        values = _confirm_values(session, card_id, key, actor)
    kept = {k: form.get(k, "") for k in ("note", "reason", "mode", "bank_code", "pickup_place")}

    def again(exc: SSCardError) -> HTMLResponse:
        shown = {**values, "values": kept, **_problems(exc, OP_INPUTS, OP_LABELS)}
        return _page(request, "confirm", shown, actor=actor, status_code=exc.status_code)

    with _refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        card = service.card_at_version(
            session, card_ref=values["card"].id, version=_version(form), actor=actor
        )
        if key not in {k for k, _ in values["ops"]}:
            status = STATUS_NAMES[card.status]
            raise TransitionNotAllowed(f"卡片当前状态为“{status}”，不能办理{OPS[key].title}")
        target = _perform(session, key, card.id, form, actor)
    return _redirect(f"/cards/c/{target}", key)


def _perform(
    session: Session, key: str, card_ref: str, form: Mapping[str, str], actor: Actor
) -> str:
    """Run operation ``key`` on the card; the id of the card to show afterwards."""
    note = form.get("note", "")
    if key in ("temporary-loss", "loss"):
        loss = pages.parsed(LossIn, {"temporary": key == "temporary-loss", "note": note})
        service.report_loss(
            session, card_ref=card_ref, temporary=loss.temporary, actor=actor, note_text=loss.note
        )
    elif key in ("unlock", "temporary-unlock"):
        data = pages.parsed(NoteIn, {"note": note})
        service.unlock(
            session, card_ref=card_ref, actor=actor, temporary=key == "temporary-unlock",
            note_text=data.note,
        )  # fmt: skip
    elif key == "cancel":
        reason = pages.parsed(CancelIn, {"reason": form.get("reason", "")},
                         {"reason": "请填写注销原因（至少 2 个字）"})  # fmt: skip
        service.cancel(session, card_ref=card_ref, reason=reason.reason, actor=actor)
    elif key == "restore":
        service.restore(session, card_ref=card_ref, actor=actor)
    elif key == "replace":
        return service.replace(session, card_ref=card_ref, data=_replacement(form), actor=actor).id
    elif key == "pin-reset":
        data_pin = _pin_reset(form)
        service.reset_pin(
            session, card_ref=card_ref, id_number=data_pin.id_number,
            new_pin=data_pin.new_pin.get_secret_value(), actor=actor,
        )  # fmt: skip
    elif key == "activate":
        activation.activate(session, card_ref=card_ref, actor=actor)
    return card_ref


def _replacement(form: Mapping[str, str]) -> ReplacementIn:
    values = {
        "reason": form.get("reason", ""),
        "mode": form.get("mode", "batch"),
        "bank_code": form.get("bank_code", "").strip() or None,
        "pickup_place": form.get("pickup_place", "").strip() or None,
    }
    return pages.parsed(
        ReplacementIn, values, {"reason": "请选择补换原因", "mode": "请选择制卡方式"}
    )


def _pin_reset(form: Mapping[str, str]) -> PinResetIn:
    problems = []
    if not form.get("id_number", "").strip():
        problems.append(FieldProblem("id_number", "请填写持卡人证件号码"))
    if not form.get("new_pin"):
        problems.append(FieldProblem("new_pin", "请持卡人输入新密码"))
    elif form.get("new_pin") != form.get("new_pin_confirm"):
        problems.append(FieldProblem("new_pin_confirm", "两次输入的新密码不一致"))
    if problems:
        raise ValidationFailed(problems)
    return pages.parsed(
        PinResetIn, {"id_number": form.get("id_number", ""), "new_pin": form.get("new_pin", "")}
    )


# ---- applications --------------------------------------------------------------------

APPLY_INPUTS = {"id_number", "photo", "source", "mode", "bank_code", "generation", "pickup_place"}
APPLY_LABELS = {"id_number": "申请人", "photo": "照片", "bank_code": "合作银行",
                "pickup_place": "领卡地点", "generation": "卡代别"}  # fmt: skip


def _apply_page(
    request: Request, actor: Actor, values: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    context_values = {"section": "apply", "sources": SOURCES, "modes": MODES, **values}
    return _page(request, "apply", context_values, actor=actor, status_code=status_code)


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

    with _refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        if not typed:
            raise ValidationFailed([FieldProblem("find_id_number", "请输入申请人证件号码")])
        person = _found(lambda: registry_service.get_person(session, id_number=typed, actor=actor))
    return RedirectResponse(f"/cards/apply/p/{person.id}", status_code=303)


def _applicant_values(session: Session, person_id: str, actor: Actor) -> dict[str, Any]:
    """The applicant (masked), their live card if any, and the form's choices."""
    person = registry_service.get_person_in_scope(session, person_id=person_id, actor=actor)
    shown = registry_service.person_out(session, person)
    live = service.live_card(session, person_id=person.id)
    live_out = service.card_out(session, live) if live else None
    return {
        "person": shown,
        "live_card": live_out,
        "offer_ops": [k for k, _ in _offered(live_out, actor)] if live_out else [],
        "banks": service.cooperating_banks(session, region_code=shown.residence_region.code),
        "pickup_places": service.pickup_places(session, actor=actor),
    }


@router.get("/apply/p/{person_id}", response_class=HTMLResponse)
def apply_form(
    request: Request, person_id: str, actor: Applier, session: DbSession
) -> HTMLResponse:
    """Step two: the application form for the applicant found."""
    with _refusing(request):
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
    with _refusing(request):
        values = _applicant_values(session, person_id, actor)

    def again(exc: SSCardError) -> HTMLResponse:
        shown = {**values, "values": form, **_problems(exc, APPLY_INPUTS, APPLY_LABELS)}
        return _apply_page(request, actor, shown, status_code=exc.status_code)

    with _refusing(request, again):
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
                "generation": _number(form.get("generation", "3")),
                "pickup_place": form.get("pickup_place", "").strip() or None,
            },
            {"bank_code": "请选择合作银行", "generation": "请选择卡代别"},
        )
        card = service.apply(session, data=data, actor=actor)
    return _redirect(f"/cards/c/{card.id}", "applied")


# ---- batches, failures and statistics ------------------------------------------------


@router.get("/batches", response_class=HTMLResponse)
def batch_list(request: Request, actor: Reader, session: DbSession) -> HTMLResponse:
    """The newest batches, each with its cards per status as a progress bar."""
    found = batches.list_batches(session, limit=50)
    return _page(request, "batches", {"section": "batches", "batches": found}, actor=actor)


def _batch_page(
    request: Request,
    actor: Actor,
    session: Session,
    batch_no: str,
    extra: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    with _refusing(request):
        values = {
            "section": "batches",
            "batch": batches.get_batch(session, batch_no=batch_no),
            "failures": batches.list_failures(session, batch_no=batch_no, status=None),
            "rejects": batches.rejects_of(session, batch_no=batch_no, limit=50),
            **_failure_names(),
            **(extra or {}),
        }
    return _page(request, "batch", values, actor=actor, status_code=status_code)


def _failure_names() -> dict[str, Any]:
    return {"stages": STAGES, "failure_statuses": FAILURE_STATUSES}


@router.get("/batches/{batch_no}", response_class=HTMLResponse)
def batch_page(request: Request, batch_no: str, actor: Reader, session: DbSession) -> HTMLResponse:
    """One batch: progress, card-making failures (resolve, resubmit), rejected result rows."""
    return _batch_page(request, actor, session, batch_no)


def _failures_page(
    request: Request,
    actor: Actor,
    session: Session,
    employer_id: str,
    extra: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    employer = None
    with _refusing(request):
        if employer_id.isdigit():
            employer = registry_units.get_employer(session, employer_id=int(employer_id))
        values = {
            "section": "stats",
            "employer": employer,
            "failures": batches.list_failures(
                session, employer_id=employer.id if employer else None, status="open"
            ),
            **_failure_names(),
            **(extra or {}),
        }
    return _page(request, "failures", values, actor=actor, status_code=status_code)


@router.get("/failures", response_class=HTMLResponse)
def failure_list(
    request: Request, actor: Reader, session: DbSession, employer_id: str = ""
) -> HTMLResponse:
    """Open card-making failures (of one employer's staff, when chosen)."""
    return _failures_page(request, actor, session, employer_id.strip())


@router.post("/failures/{failure_id}/{how}", response_class=HTMLResponse)
def failure_handled(
    request: Request,
    failure_id: str,
    how: str,
    actor: BatchClerk,
    session: DbSession,
    form: pages.FormFields,
) -> Response:
    """Resolve a failure with a note, or resubmit its card for the next batch."""
    back_batch = form.get("batch_no", "").strip()
    back_batch = back_batch if re.fullmatch(r"[0-9A-Za-z_-]{1,32}", back_batch) else ""
    back_employer = form.get("employer_id", "").strip()
    back_employer = back_employer if back_employer.isdigit() else ""

    def again(exc: SSCardError) -> HTMLResponse:
        reason = exc.fields[0].reason if exc.fields else mask_text(exc.message)
        extra = {
            "errors": {f"note-{failure_id}": [reason]},
            "notes": {failure_id: form.get("note", "")},
        }
        if back_batch:
            return _batch_page(
                request, actor, session, back_batch, extra, status_code=exc.status_code
            )
        return _failures_page(
            request, actor, session, back_employer, extra, status_code=exc.status_code
        )

    with _refusing(request):
        if how not in ("resolve", "resubmit") or not failure_id.isdigit():
            raise NotFound("没有这项业务")
    with _refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        note = pages.parsed(batches.FailureNoteIn, {"note": form.get("note", "")},
                       {"note": "请填写处理说明（至少 2 个字）"}).note  # fmt: skip
        handle = batches.resolve_failure if how == "resolve" else batches.resubmit_failure
        handle(session, failure_id=int(failure_id), note=note, actor=actor)
    if back_batch:
        url = f"/cards/batches/{back_batch}"
    else:
        url = "/cards/failures" + (
            f"?{urlencode({'employer_id': back_employer})}" if back_employer else ""
        )
    return _redirect(url, f"failure-{how}")


@router.get("/stats", response_class=HTMLResponse)
def statistics(request: Request, actor: Reader, session: DbSession) -> HTMLResponse:
    """Making progress, card-holding by employer and community, failures by employer."""
    values = {
        "section": "stats",
        "progress": service.making_progress(session),
        "by_employer": service.holding(session, by="employer")[:20],
        "by_community": service.holding(session, by="community")[:20],
        "failures_by_employer": service.failures_by(session, by="employer")[:20],
    }
    return _page(request, "stats", values, actor=actor)


# ---- handover --------------------------------------------------------------------------

HANDOVER_INPUTS = {"to_place", "handler", "receiver", "note"}
HANDOVER_LABELS = {"to_place": "交接至", "handler": "交出人", "receiver": "接收人",
                   "card_number": "卡号", "box_code": "卡盒号"}  # fmt: skip


def _handover_values(session: Session, code: str, actor: Actor) -> dict[str, Any]:
    """What was scanned (a box or a card), where it is, and where it can go."""
    scanned = service.scan(session, code=code, actor=actor)
    cards = [service.card_out(session, c) for c in scanned.cards]
    moves = service.handovers(session, card=scanned.cards[0]) if scanned.cards else []
    return {
        "scanned": scanned,
        "cards": cards,
        "moves": moves[-10:],
        "places": service.place_names(session),
        "destinations": service.handover_places(session, actor=actor),
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
    return _page(request, "handover", context_values, actor=actor, status_code=status_code)


@router.get("/handover", response_class=HTMLResponse)
def handover_page(
    request: Request, actor: Reader, session: DbSession, box: str = "", card: str = ""
) -> HTMLResponse:
    """The scan input; after a scan or a move, the box's (or card's) cards and places."""
    code = box.strip() or card.strip()
    if not code:
        return _handover_page(request, actor, {})
    with _refusing(request):
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

    with _refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        scanned = service.scan(session, code=code, actor=actor)
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
    with _refusing(request):
        values = _handover_values(session, box_code or card_id, actor)

    def again(exc: SSCardError) -> HTMLResponse:
        shown = {**values, "values": form, **_problems(exc, HANDOVER_INPUTS, HANDOVER_LABELS)}
        return _handover_page(request, actor, shown, status_code=exc.status_code)

    with _refusing(request, again):
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
        service.handover(session, data=data, actor=actor)
    query = {"box": box_code} if box_code else {"card": card_id}
    return _redirect(f"/cards/handover?{urlencode(query)}", "handover")


# ---- the process guide -----------------------------------------------------------------


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
    return _page(request, "guide", values, actor=actor)
