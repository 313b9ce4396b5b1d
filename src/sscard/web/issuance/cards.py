"""Card lookup and a card's page, with each counter operation behind a confirmation step
(loss, unlock, cancel, restore, replacement, PIN reset, activation)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sscard.errors import FieldProblem, NotFound, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.params import Id
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.issuance.activation import service as activation_service
from sscard.issuance.cards import (
    application_service,
    handover_service,
    receipt_pdf,
    receipt_service,
    service,
)
from sscard.issuance.cards.errors import TransitionNotAllowed
from sscard.issuance.cards.schemas import (
    CancelIn,
    CardOut,
    LossIn,
    NoteIn,
    PinResetIn,
    ReplacementIn,
)
from sscard.issuance.instant import province_service
from sscard.issuance.lifecycle import Status
from sscard.kit.context import Actor
from sscard.kit.masking import mask_id_number, mask_text
from sscard.registry.persons import service as registry_service
from sscard.web import pages
from sscard.web.issuance.common import (
    DETAIL_LABELS,
    DETAIL_VALUES,
    KINDS,
    MODES,
    REASONS,
    SOURCES,
    STATUS_NAMES,
    Reader,
    authorize,
    form_problems,
    form_version,
    found_or_problem,
    page,
    redirect,
    refusing,
)

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/cards", include_in_schema=False)


LOOKUP_MODES = {"card": "卡号或卡识别码", "person": "证件号码"}


def _lookup_page(
    request: Request, actor: Actor, values: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    context_values = {"section": "lookup", "modes": LOOKUP_MODES, "mode": "card", **values}
    return page(request, "lookup", context_values, actor=actor, status_code=status_code)


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
    typed = {k: form.get(k, "").strip() for k in ("card_ref", "id_number")}

    def again(exc: SSCardError) -> HTMLResponse:
        field = "card_ref" if mode == "card" else "id_number"
        reason = exc.fields[0].reason if exc.fields else mask_text(exc.message)
        values = {"mode": mode, "values": typed, "errors": {field: [reason]}}
        return _lookup_page(request, actor, values, status_code=exc.status_code)

    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        if mode == "card":
            if not typed["card_ref"]:
                raise ValidationFailed([FieldProblem("card_ref", "请输入卡号或卡识别码")])
            card = found_or_problem(
                lambda: service.get_card_at_counter(
                    session, card_ref=typed["card_ref"], actor=actor
                )
            )
            return RedirectResponse(f"/cards/c/{card.id}", status_code=303)
        id_number = typed["id_number"]
        if not id_number:
            raise ValidationFailed([FieldProblem("id_number", "请输入证件号码")])
        found = found_or_problem(
            lambda: province_service.person_cards(session, id_number=id_number, actor=actor)
        )
    values = {"mode": mode, "found": found, "searched": mask_id_number(id_number.upper())}
    return _lookup_page(request, actor, values)


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
        "一站式启用",
        "issuance.manage",
        _can("activate"),
        "一次办结：依次开通银行账户、交通功能，全部完成后社保卡状态变为“正常”，持卡人无需再到"
        "银行和交通部门分别办理。办理进度可在卡片页面查看。",
    ),
    "temporary-loss": Op(
        "临时挂失",
        "issuance.manage",
        _can("report_temporary_loss"),
        "临时挂失后该卡及电子社保卡将暂停使用。{days} 天内未解挂的到期自动解除，卡片恢复正常；"
        "如确已遗失，请办理正式挂失。",
    ),
    "loss": Op(
        "正式挂失",
        "issuance.manage",
        _can("report_loss"),
        "正式挂失后该卡及电子社保卡将暂停使用，直至持卡人本人持有效身份证件到柜台办理解挂。"
        "如需新卡，可在挂失后办理补换卡。",
        danger=True,
    ),
    "temporary-unlock": Op(
        "解除临时挂失",
        "issuance.manage",
        _can("temporary_unlock"),
        "解除临时挂失后该卡及电子社保卡恢复正常使用。",
    ),
    "unlock": Op(
        "解挂",
        "issuance.manage",
        lambda card: card.status.code == Status.lost.value and "unlock" in card.allowed_actions,
        "解挂后该卡及电子社保卡恢复正常使用。请先核验持卡人本人的有效身份证件。",
    ),
    "pin-reset": Op(
        "重置密码",
        "issuance.manage",
        lambda card: card.status.code in _HELD and card.card_number is not None,
        "请先核验持卡人本人的有效身份证件。重置后原密码失效，密码错误次数清零，密码锁定解除。",
    ),
    "replace": Op(
        "补换卡",
        "issuance.apply",
        lambda card: card.status.code in _HELD,
        "确认后原卡立即注销（电子社保卡同时注销），并为持卡人受理一张补换卡；新卡制成并发放前，"
        "持卡人暂无可用的社会保障卡。",
        danger=True,
    ),
    "cancel": Op(
        "注销",
        "issuance.manage",
        _can("cancel"),
        "注销后该卡（或该申请）不能再使用，电子社保卡同时注销。如属误操作，注销后 {window} 天内、"
        "未补换新卡的可以注销还原。",
        danger=True,
    ),
    "restore": Op(
        "注销还原",
        "issuance.manage",
        _can("restore"),
        "注销还原后该卡恢复到注销前的状态（{before}），电子社保卡随之恢复。仅限注销后 {window} 天"
        "内、未补换新卡且持卡人没有其他有效卡的情形。",
    ),
}
"""The operations a card page offers, in the order its buttons are shown."""


def offered(card: CardOut, actor: Actor) -> list[tuple[str, Op]]:
    return [(k, op) for k, op in OPS.items() if op.offered(card) and actor.can(op.permission)]


def _card_values(session: Session, card_id: str, actor: Actor) -> dict[str, Any]:
    """Everything a card page shows: the card and timeline, moves, activation, place names."""
    card = service.get_card_at_counter(session, card_ref=card_id, actor=actor)
    detail = service.card_detail(session, card)
    # A card reached only because it sits at this counter: handover and issue, nothing else.
    ops = offered(detail, actor) if service.in_scope(session, actor, card) else []
    receipts = [e.id for e in detail.timeline if receipt_service.receipt_offered(card, e.action)]
    return {
        "card": detail,
        "receipts": set(receipts),
        "latest_receipt": receipts[-1] if receipts else None,
        "handovers": handover_service.handovers(session, card=card),
        "activation": activation_service.activation_out(session, card),
        "bank_unconfigured": activation_service.bank_step_unconfigured(card),
        "places": handover_service.place_names(session),
        "ops": ops,
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
    with refusing(request):
        values = _card_values(session, card_id, actor)
    return page(request, "card", {"section": "lookup", **values}, actor=actor)


@router.get("/c/{card_id}/receipts/{event_id}", response_class=Response)
def receipt(
    request: Request, card_id: str, event_id: Id, actor: Reader, session: DbSession
) -> Response:
    """The counter receipt (柜面业务回执) of one operation on the card, as a PDF to print."""
    with refusing(request):
        found = receipt_service.receipt(session, card_ref=card_id, event_id=event_id, actor=actor)
    return Response(
        receipt_pdf.render(found),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="receipt-{found.receipt_no}.pdf"',
            "Cache-Control": "no-store",
        },
    )


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
        values["banks"] = handover_service.cooperating_banks(
            session, region_code=holder.residence_region_code
        )
        values["pickup_places"] = handover_service.pickup_places(session, actor=actor)
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
    with refusing(request):
        authorize(request, session, actor, OPS[_op_key(key)].permission)
        values = _confirm_values(session, card_id, key, actor)
    if key not in {k for k, _ in values["ops"]}:
        values["unavailable"] = True
    return page(request, "confirm", values, actor=actor)


OP_INPUTS = {
    "note",
    "reason",
    "mode",
    "bank_code",
    "pickup_place",
    "id_number",
    "new_pin",
    "new_pin_confirm",
}


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
    with refusing(request):
        authorize(request, session, actor, OPS[_op_key(key)].permission)
        values = _confirm_values(session, card_id, key, actor)
    # Everything typed comes back after a refusal, except PINs (never sent back to a page).
    kept = {k: form.get(k, "") for k in OP_INPUTS if "pin" not in k}

    def again(exc: SSCardError) -> HTMLResponse:
        shown = {**values, "values": kept, **form_problems(exc, OP_INPUTS, OP_LABELS)}
        return page(request, "confirm", shown, actor=actor, status_code=exc.status_code)

    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        card = service.card_at_version(
            session, card_ref=values["card"].id, version=form_version(form), actor=actor
        )
        if key not in {k for k, _ in values["ops"]}:
            status = STATUS_NAMES[card.status]
            raise TransitionNotAllowed(f"卡片当前状态为“{status}”，不能办理{OPS[key].title}")
        target = _perform(session, key, card.id, form, actor)
    return redirect(f"/cards/c/{target}", key)


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
            session,
            card_ref=card_ref,
            actor=actor,
            temporary=key == "temporary-unlock",
            note_text=data.note,
        )
    elif key == "cancel":
        reason = pages.parsed(
            CancelIn,
            {"reason": form.get("reason", "")},
            {"reason": "请填写注销原因（至少 2 个字）"},
        )
        service.cancel(session, card_ref=card_ref, reason=reason.reason, actor=actor)
    elif key == "restore":
        service.restore(session, card_ref=card_ref, actor=actor)
    elif key == "replace":
        return application_service.replace(
            session, card_ref=card_ref, data=_replacement(form), actor=actor
        ).id
    elif key == "pin-reset":
        data_pin = _pin_reset(form)
        service.reset_pin(
            session,
            card_ref=card_ref,
            id_number=data_pin.id_number,
            new_pin=data_pin.new_pin.get_secret_value(),
            actor=actor,
        )
    elif key == "activate":
        activation_service.activate(session, card_ref=card_ref, actor=actor)
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
