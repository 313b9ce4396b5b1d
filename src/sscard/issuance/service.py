"""Issuance use cases: applications, numbers, lifecycle operations, PINs, handover, queries.

Every change of a card's status goes through :func:`transition`, which asks the pure state
machine (``lifecycle``), writes the card's timeline, publishes ``CardStatusChanged`` (the
e-card follows it) and relies on the card's version column so that of two concurrent
operations on one card, one wins and the other gets a clear 409.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from sscard import db
from sscard.crypto import fields
from sscard.db import new_id, utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.iam import passwords
from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType, region_covers
from sscard.issuance import lifecycle, numbers, repository
from sscard.issuance.errors import (
    ActiveCardExists,
    ApplicationRefused,
    BoxNotFound,
    CardNotFound,
    ConcurrentChange,
    NumbersExhausted,
    PinIncorrect,
    PinLocked,
    RestoreRefused,
    TransitionNotAllowed,
)
from sscard.issuance.events import CardStatusChanged
from sscard.issuance.lifecycle import Action, Status
from sscard.issuance.models import CARD_TABLE, Card, CardEvent, Handover, NumberRange
from sscard.issuance.schemas import (
    ApplicationIn,
    CardDetail,
    CardEventOut,
    CardOut,
    CountRow,
    HandoverIn,
    HandoverOut,
    NamedStatus,
    RangeIn,
    RangeOut,
    ReplacementIn,
)
from sscard.kit import access, events, outbox
from sscard.kit.access import AccessRecord
from sscard.kit.context import SYSTEM, Actor
from sscard.kit.masking import mask_bank_account, mask_card_number
from sscard.registry.persons import service as registry_service
from sscard.registry.photos import service as registry_photos
from sscard.registry.units import service as registry_units
from sscard.settings import get_settings

__all__ = ["CardStatusChanged", "Status", "Action"]

_TIMESTAMPS = {
    Action.submit: "submitted_at",
    Action.made: "made_at",
    Action.make_instant: "made_at",
    Action.issue: "issued_at",
    Action.activate: "activated_at",
    Action.report_temporary_loss: "lost_at",
    Action.report_loss: "lost_at",
    Action.cancel: "cancelled_at",
}


def policy() -> lifecycle.Policy:
    settings = get_settings()
    return lifecycle.Policy(
        temporary_loss_days=settings.card_temporary_loss_days,
        restore_window=timedelta(days=settings.card_restore_window_days),
        max_pin_failures=settings.card_max_pin_failures,
    )


# ---- the one way a status changes ----------------------------------------------------


def _event(
    session: Session, card: Card, action: str, before: str | None, actor: Actor,
    detail: dict[str, Any] | None = None, *, audit: bool = True,
) -> None:  # fmt: skip
    session.add(
        CardEvent(
            card_id=card.id, action=action, from_status=before, to_status=card.status,
            actor_id=actor.id, actor_name=actor.name, institution_code=actor.institution_code,
            detail=detail or {}, occurred_at=utcnow(),
        )
    )  # fmt: skip
    if audit:
        display = mask_card_number(card.card_number) if card.card_number else f"申请{card.id[-6:]}"
        access.record(
            session,
            AccessRecord(
                action=f"card.{action}", subject_type="card", subject_id=card.id,
                subject_display=display, detail={"from": before, "to": card.status},
            ),
        )  # fmt: skip


def flush(session: Session) -> None:
    """Flush, turning a lost race on a card into a clear 409."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise ConcurrentChange() from exc


def transition(
    session: Session,
    *,
    card: Card,
    action: Action,
    actor: Actor,
    detail: dict[str, Any] | None = None,
) -> Card:
    """Move ``card`` by ``action``: checked, timed, recorded, announced."""
    before = Status(card.status)
    restorable = Status(card.status_before_cancel) if card.status_before_cancel else None
    try:
        after = lifecycle.next_status(before, action, restorable_from=restorable)
    except lifecycle.TransitionRefused as refused:
        raise TransitionNotAllowed(str(refused)) from refused
    now = utcnow()
    if action is Action.cancel:
        card.status_before_cancel = before.value
    if action is Action.restore:
        card.status_before_cancel, card.cancelled_at, card.cancel_reason = None, None, None
    if action in _TIMESTAMPS:
        setattr(card, _TIMESTAMPS[action], now)
    card.status, card.updated_at = after.value, now
    _event(session, card, action.value, before.value, actor, detail)
    flush(session)
    events.publish(
        session,
        CardStatusChanged(
            card_id=card.id, person_id=card.person_id, card_number=card.card_number,
            action=action.value, from_status=before.value, to_status=after.value,
        ),
    )  # fmt: skip
    return card


# ---- finding cards -------------------------------------------------------------------


def _in_scope(actor: Actor, card: Card) -> bool:
    if actor.institution_type == InstitutionType.bank and actor.kind.value == "operator":
        return card.bank_code == actor.institution_code
    prefix = iam_service.region_scope(actor)
    return card.managing_region_code.startswith(prefix) or card.region_code.startswith(prefix)


def _lapse_if_due(session: Session, card: Card) -> Card:
    if card.status == Status.temporarily_lost and card.lost_at is not None:
        if lifecycle.lapsed(lost_at=card.lost_at, now=utcnow(), policy=policy()):
            transition(session, card=card, action=Action.lapse, actor=SYSTEM)
    return card


def get_card(session: Session, *, card_ref: str, actor: Actor) -> Card:
    """A card by card number, card identification code or id, within the actor's scope."""
    ref = card_ref.strip().upper()
    card = (
        repository.card_by_number(session, ref)
        or repository.card_by_id_code(session, ref)
        or repository.card(session, card_ref.strip())
    )
    if card is None or not _in_scope(actor, card):
        raise CardNotFound()
    return _lapse_if_due(session, card)


def cards_of_person(session: Session, *, id_number: str, actor: Actor) -> list[Card]:
    """Every card a person has had, newest first (the person must be in scope)."""
    person = registry_service.get_person(session, id_number=id_number, actor=actor)
    return [_lapse_if_due(session, c) for c in repository.cards_of_person(session, person.id)]


def live_card(session: Session, *, person_id: str) -> Card | None:
    """The person's one card that is not failed or cancelled (for other components)."""
    return repository.live_card_of_person(session, person_id)


def card_by_id(session: Session, *, card_id: str) -> Card:
    """A card by its internal id, whatever the scope (for other components)."""
    card = repository.card(session, card_id)
    if card is None:
        raise CardNotFound()
    return card


def card_out(session: Session, card: Card) -> CardOut:
    id_masked, name_masked = registry_service.person_display(session, person_id=card.person_id)
    batch = repository.batch(session, card.batch_id) if card.batch_id else None
    return CardOut(
        id=card.id, person_id=card.person_id, holder_id_number=id_masked,
        holder_name=name_masked, card_number=card.card_number, card_id_code=card.card_id_code,
        status=NamedStatus(code=card.status, name=lifecycle.STATUS_NAMES[Status(card.status)]),
        kind=card.kind, reason=card.reason, source=card.source, mode=card.mode,
        generation=card.generation, region_code=card.region_code,
        managing_region_code=card.managing_region_code, bank_code=card.bank_code,
        bank_account=card.bank_account_masked, pickup_place=card.pickup_place,
        location=card.location, box_code=card.box_code, box_position=card.box_position,
        batch_no=batch.batch_no if batch else None, issue_date=card.issue_date,
        expiry_date=card.expiry_date, is_offsite=card.is_offsite, pin_set=card.pin_hash is not None,
        pin_locked=lifecycle.pin_locked(card.pin_failures, policy()),
        bank_account_active=card.bank_account_active, transport_enabled=card.transport_enabled,
        replaces_card_id=card.replaces_card_id, replaced_by_card_id=card.replaced_by_card_id,
        allowed_actions=[a.value for a in lifecycle.allowed_actions(Status(card.status))],
        applied_at=card.applied_at, activated_at=card.activated_at,
        cancelled_at=card.cancelled_at, version=card.version,
    )  # fmt: skip


def card_detail(session: Session, card: Card) -> CardDetail:
    """The card with its whole timeline."""
    timeline = [
        CardEventOut(
            action=e.action,
            action_name=_action_name(e.action),
            from_status=e.from_status,
            to_status=e.to_status,
            to_status_name=lifecycle.STATUS_NAMES[Status(e.to_status)],
            actor_id=e.actor_id,
            actor_name=e.actor_name,
            institution_code=e.institution_code,
            detail=e.detail,
            occurred_at=e.occurred_at,
        )
        for e in repository.timeline(session, card.id)
    ]
    return CardDetail(**card_out(session, card).model_dump(), timeline=timeline)


_EXTRA_ACTION_NAMES = {
    "apply": "制卡申请", "assign_number": "开户放号", "handover": "交接",
    "set_pin": "设置密码", "change_pin": "修改密码", "reset_pin": "重置密码",
    "transfer": "地市卡转移", "bank_change": "换绑服务银行", "download": "异地卡信息下载",
}  # fmt: skip


def _action_name(action: str) -> str:
    try:
        return lifecycle.ACTION_NAMES[Action(action)]
    except ValueError:
        return _EXTRA_ACTION_NAMES.get(action, action)


def note(
    session: Session, *, card: Card, action: str, actor: Actor, detail: dict[str, Any]
) -> None:
    """Add a timeline entry that does not change the status (handover, PIN, transfer ...)."""
    _event(session, card, action, card.status, actor, detail)


# ---- applications and numbers --------------------------------------------------------


def _check_bank(session: Session, bank_code: str, residence_region: str) -> None:
    bank = iam_service.get_institution(session, code=bank_code)
    if bank.type != InstitutionType.bank or bank.status != "active":
        raise ApplicationRefused(
            f"{bank_code} 不是合作银行", fields=[FieldProblem("bank_code", "不是合作银行")]
        )
    if not region_covers(bank.region_code, residence_region):
        raise ApplicationRefused(
            f"{bank.name} 不服务申请人所在地区",
            fields=[FieldProblem("bank_code", "该银行不服务申请人所在地区")],
        )


def _applicant(session: Session, data: ApplicationIn, actor: Actor) -> str:
    if data.person is not None:
        registry_service.create_person(session, data=data.person, actor=actor)
    person = registry_service.get_person(session, id_number=data.id_number, actor=actor)
    if person.status != "normal":
        raise ApplicationRefused(
            "申请人已登记死亡或迁出，不能申领社会保障卡",
            fields=[FieldProblem("id_number", "申请人状态不是正常")],
        )
    if not registry_photos.has_photo(session, person_id=person.id):
        raise ApplicationRefused(
            "申请人尚无合格照片，请先采集照片", fields=[FieldProblem("photo", "缺少照片")]
        )
    _check_bank(session, data.bank_code, person.residence_region_code)
    return person.id


def new_card(
    session: Session,
    *,
    person_id: str,
    kind: str,
    source: str,
    mode: str,
    bank_code: str,
    generation: int,
    pickup_place: str | None,
    actor: Actor,
    reason: str | None = None,
) -> Card:
    """Add a card in ``applied`` for a person (one live card per person, enforced)."""
    if repository.live_card_of_person(session, person_id) is not None:
        raise ActiveCardExists("申请人已有一张有效的社会保障卡，请办理补换卡")
    region = get_settings().region_code
    now = utcnow()
    card = Card(
        id=new_id(), person_id=person_id, status=Status.applied.value, kind=kind, reason=reason,
        source=source, mode=mode, generation=generation, region_code=region,
        managing_region_code=region, bank_code=bank_code, pickup_place=pickup_place,
        applied_by=actor.id, applied_at=now, created_at=now, updated_at=now,
        pin_failures=0, is_offsite=False, bank_account_active=False, transport_enabled=False,
    )  # fmt: skip
    session.add(card)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise ActiveCardExists("申请人已有一张有效的社会保障卡，请办理补换卡") from exc
    _event(session, card, "apply", None, actor, {"source": source, "mode": mode})
    return card


def apply(session: Session, *, data: ApplicationIn, actor: Actor) -> Card:
    """A card application (制卡申请): applicant registered, alive, with a photo, no live card."""
    person_id = _applicant(session, data, actor)
    if data.pickup_place:
        iam_service.get_institution(session, code=data.pickup_place)
    return new_card(
        session, person_id=person_id, kind="new", source=data.source, mode=data.mode,
        bank_code=data.bank_code, generation=data.generation, pickup_place=data.pickup_place,
        actor=actor,
    )  # fmt: skip


def add_range(session: Session, *, data: RangeIn) -> NumberRange:
    """Add a block of card numbers for a region (never overlapping another block)."""
    if data.end < data.start:
        raise ValidationFailed([FieldProblem("end", "结束号不能小于起始号")])
    numbers.card_number(data.prefix, data.end)
    if repository.overlapping_range(session, data.prefix, data.start, data.end):
        raise ValidationFailed([FieldProblem("start", "与已有号段重叠")])
    block = NumberRange(
        region_code=data.region_code, prefix=data.prefix, next_value=data.start,
        last_value=data.end, status="active", created_at=utcnow(),
    )  # fmt: skip
    session.add(block)
    session.flush()
    return block


def range_out(block: NumberRange) -> RangeOut:
    return RangeOut(
        id=block.id, region_code=block.region_code, prefix=block.prefix,
        next_value=block.next_value, last_value=block.last_value,
        remaining=max(0, block.last_value - block.next_value + 1), status=block.status,
    )  # fmt: skip


def list_ranges(session: Session, *, region_code: str | None = None) -> list[RangeOut]:
    """Number ranges with what remains of each."""
    return [range_out(r) for r in repository.ranges(session, region_code)]


def allocate_numbers(session: Session, *, region_code: str, count: int) -> list[str]:
    """``count`` card numbers from the region's ranges (row-locked; never reused)."""
    found: list[str] = []
    for block in repository.ranges_for_update(session, region_code):
        take = min(count - len(found), block.last_value - block.next_value + 1)
        found += [numbers.card_number(block.prefix, block.next_value + i) for i in range(take)]
        block.next_value += take
        if len(found) == count:
            session.flush()
            return found
    raise NumbersExhausted(
        f"地区 {region_code} 的卡号段已用完（还需 {count - len(found)} 个），请先增加号段"
    )


def assign_number(session: Session, *, card: Card, actor: Actor) -> Card:
    """Give a card its number (开户放号) if it has none yet."""
    if card.card_number is None:
        card.card_number = allocate_numbers(session, region_code=card.region_code, count=1)[0]
        note(session, card=card, action="assign_number", actor=actor,
             detail={"card_number": card.card_number})  # fmt: skip
    return card


# ---- making results (used by batch and instant making) -------------------------------


@dataclass(frozen=True, slots=True)
class MadeCard:
    """What a vendor or a bank branch reports for a card it personalised."""

    card_id_code: str
    atr: str
    bank_account: str
    issue_date: date
    expiry_date: date | None = None
    box_code: str | None = None
    box_position: int | None = None


def made_problems(card: Card, made: MadeCard) -> list[FieldProblem]:
    """What is wrong with a making result for ``card``."""
    found = numbers.card_id_code_problems(made.card_id_code, region_code=card.region_code)
    if not re.fullmatch(r"[0-9A-F]{8,64}", made.atr):
        found.append(FieldProblem("atr", "ATR 应为 8-64 位十六进制"))
    if not re.fullmatch(r"\d{12,19}", made.bank_account):
        found.append(FieldProblem("bank_account", "银行卡号应为 12-19 位数字"))
    return found


def record_made(
    session: Session, *, card: Card, made: MadeCard, actor: Actor, instant: bool = False
) -> Card:
    """Store what was personalised and move the card to ``made``."""
    found = made_problems(card, made)
    if found:
        raise ValidationFailed(found)
    years = get_settings().card_validity_years
    card.card_id_code, card.atr = made.card_id_code, made.atr
    card.bank_account_enc = fields.encrypt_field(
        made.bank_account, table=CARD_TABLE, column="bank_account_enc", row_id=card.id,
        session=session,
    )  # fmt: skip
    card.bank_account_masked = mask_bank_account(made.bank_account)
    card.issue_date = made.issue_date
    card.expiry_date = made.expiry_date or made.issue_date.replace(
        year=made.issue_date.year + years
    )
    card.box_code, card.box_position = made.box_code, made.box_position
    action = Action.make_instant if instant else Action.made
    return transition(session, card=card, action=action, actor=actor,
                      detail={"card_id_code": made.card_id_code})  # fmt: skip


def bank_account(session: Session, *, card: Card) -> str | None:
    """The card's bank account number in clear (for the bank adapters only)."""
    if card.bank_account_enc is None:
        return None
    return fields.decrypt_field(
        card.bank_account_enc, table=CARD_TABLE, column="bank_account_enc", row_id=card.id,
        session=session,
    )  # fmt: skip


# ---- lifecycle operations ------------------------------------------------------------


def report_loss(
    session: Session, *, card_ref: str, temporary: bool, actor: Actor, note_text: str = ""
) -> Card:
    """Report a card lost: temporarily (phone/online, lapses) or formally (counter)."""
    card = get_card(session, card_ref=card_ref, actor=actor)
    action = Action.report_temporary_loss if temporary else Action.report_loss
    return transition(session, card=card, action=action, actor=actor, detail={"note": note_text})


def unlock(
    session: Session, *, card_ref: str, actor: Actor, temporary: bool = False, note_text: str = ""
) -> Card:
    """Unlock a lost card (解挂); ``temporary`` unlocks only a temporary loss."""
    card = get_card(session, card_ref=card_ref, actor=actor)
    action = Action.temporary_unlock if temporary else Action.unlock
    return transition(session, card=card, action=action, actor=actor, detail={"note": note_text})


def cancel(session: Session, *, card_ref: str, reason: str, actor: Actor) -> Card:
    """Cancel a card or an application (注销)."""
    card = get_card(session, card_ref=card_ref, actor=actor)
    card.cancel_reason = reason
    return transition(session, card=card, action=Action.cancel, actor=actor,
                      detail={"reason": reason})  # fmt: skip


def restore(session: Session, *, card_ref: str, actor: Actor) -> Card:
    """Undo a cancellation made in error (注销还原), within the window, if not replaced."""
    card = get_card(session, card_ref=card_ref, actor=actor)
    if card.status == Status.cancelled and card.cancelled_at is not None:
        why = lifecycle.can_restore(
            cancelled_at=card.cancelled_at, now=utcnow(),
            replaced=card.replaced_by_card_id is not None, policy=policy(),
        )  # fmt: skip
        if why:
            raise RestoreRefused(why)
        if repository.live_card_of_person(session, card.person_id) is not None:
            raise RestoreRefused("持卡人已有其他有效卡，不能还原")
    return transition(session, card=card, action=Action.restore, actor=actor)


def replace(session: Session, *, card_ref: str, data: ReplacementIn, actor: Actor) -> Card:
    """Replacement (补换卡): the old card is cancelled and the new one applied, together."""
    old = get_card(session, card_ref=card_ref, actor=actor)
    if old.status not in {s.value for s in (Status.active, Status.temporarily_lost,
                                            Status.lost, Status.issued)}:  # fmt: skip
        raise TransitionNotAllowed(
            f"卡片当前状态为“{lifecycle.STATUS_NAMES[Status(old.status)]}”，不能补换"
        )
    old.cancel_reason = f"补换卡（{data.reason}）"
    transition(
        session, card=old, action=Action.cancel, actor=actor, detail={"reason": "replacement"}
    )
    bank = data.bank_code or old.bank_code
    new = new_card(
        session, person_id=old.person_id, kind="replacement", source="counter", mode=data.mode,
        bank_code=bank, generation=3, pickup_place=data.pickup_place or old.pickup_place,
        actor=actor, reason=data.reason,
    )  # fmt: skip
    new.replaces_card_id, old.replaced_by_card_id = old.id, new.id
    flush(session)
    return new


def lapse_temporary_losses(
    session: Session, *, now: datetime | None = None, limit: int = 1000
) -> int:
    """Return lapsed temporary losses to ``active``; how many lapsed."""
    before = (now or utcnow()) - timedelta(days=policy().temporary_loss_days)
    cards = repository.lapsed_temporary_losses(session, before, limit)
    for card in cards:
        transition(session, card=card, action=Action.lapse, actor=SYSTEM)
    return len(cards)


# ---- PIN -----------------------------------------------------------------------------

_WEAK = {"123456", "654321", "000000", "111111", "888888", "123123", "112233"}


def _check_pin(pin: str, field: str) -> None:
    if not re.fullmatch(r"\d{6}", pin):
        raise ValidationFailed([FieldProblem(field, "密码应为 6 位数字")])
    if pin in _WEAK or len(set(pin)) == 1:
        raise ValidationFailed([FieldProblem(field, "密码过于简单，请勿使用连续或重复数字")])


def set_pin(session: Session, *, card_ref: str, pin: str, actor: Actor) -> Card:
    """Set the card PIN the first time (at issue or activation)."""
    card = get_card(session, card_ref=card_ref, actor=actor)
    _check_pin(pin, "pin")
    if card.pin_hash is not None:
        raise ValidationFailed([FieldProblem("pin", "密码已设置，请使用修改密码")])
    card.pin_hash, card.pin_failures = passwords.hash_password(pin), 0
    note(session, card=card, action="set_pin", actor=actor, detail={})
    flush(session)
    return card


def verify_pin(session: Session, *, card: Card, pin: str) -> None:
    """Check a PIN; wrong PINs count (even if the request fails) and lock the PIN."""
    if lifecycle.pin_locked(card.pin_failures, policy()):
        raise PinLocked()
    if card.pin_hash is not None and passwords.verify_password(card.pin_hash, pin):
        card.pin_failures = 0
        return
    card_id = card.id
    db.after_rollback(session, lambda fresh: _count_pin_failure(fresh, card_id))
    left = policy().max_pin_failures - card.pin_failures - 1
    if left <= 0:
        raise PinLocked()
    raise PinIncorrect(f"密码错误，还可尝试 {left} 次", fields=[FieldProblem("pin", "密码错误")])


def _count_pin_failure(session: Session, card_id: str) -> None:
    from sqlalchemy import update

    session.execute(
        update(Card).where(Card.id == card_id).values(pin_failures=Card.pin_failures + 1)
        .execution_options(synchronize_session=False)
    )  # fmt: skip


def change_pin(
    session: Session, *, card_ref: str, old_pin: str, new_pin: str, actor: Actor
) -> Card:
    """Change the PIN, proving the old one."""
    card = get_card(session, card_ref=card_ref, actor=actor)
    _check_pin(new_pin, "new_pin")
    verify_pin(session, card=card, pin=old_pin)
    card.pin_hash = passwords.hash_password(new_pin)
    note(session, card=card, action="change_pin", actor=actor, detail={})
    flush(session)
    return card


def reset_pin(
    session: Session, *, card_ref: str, id_number: str, new_pin: str, actor: Actor
) -> Card:
    """Reset a forgotten or locked PIN at a counter, the holder's ID document checked."""
    card = get_card(session, card_ref=card_ref, actor=actor)
    holder = registry_service.find_person(session, id_number=id_number)
    if holder is None or holder.id != card.person_id:
        raise ValidationFailed([FieldProblem("id_number", "证件号码与持卡人不符")])
    _check_pin(new_pin, "new_pin")
    card.pin_hash, card.pin_failures = passwords.hash_password(new_pin), 0
    note(session, card=card, action="reset_pin", actor=actor, detail={})
    flush(session)
    return card


# ---- handover -------------------------------------------------------------------------

HOLDER = "holder"
DISTRIBUTION_TYPES = {InstitutionType.service_hall.value, InstitutionType.bank.value}


def _move_action(session: Session, card: Card, to_place: str) -> Action | None:
    """The lifecycle step a move implies: to a hall or branch it arrives, to the holder it is
    issued, anywhere else (a warehouse) a made card is in transit."""
    status = Status(card.status)
    if to_place == HOLDER:
        return Action.issue if status in (Status.made, Status.at_distribution_point) else None
    place = iam_service.get_institution(session, code=to_place)
    if place.type in DISTRIBUTION_TYPES:
        return Action.arrive if status in (Status.made, Status.in_transit) else None
    return Action.ship if status is Status.made else None


def _move(session: Session, card: Card, data: HandoverIn, actor: Actor) -> None:
    action = _move_action(session, card, data.to_place)
    detail = {"from": card.location, "to": data.to_place, "handler": data.handler,
              "receiver": data.receiver}  # fmt: skip
    card.location = data.to_place
    if action is not None:
        transition(session, card=card, action=action, actor=actor, detail=detail)
    else:
        note(session, card=card, action="handover", actor=actor, detail=detail)


def handover(session: Session, *, data: HandoverIn, actor: Actor) -> Handover:
    """Record a move of one card or a whole box (卡片交接) and where each card is now."""
    if (data.card_number is None) == (data.box_code is None):
        raise ValidationFailed([FieldProblem("card_number", "请填写卡号或卡盒号（二选一）")])
    if data.to_place != HOLDER:
        iam_service.get_institution(session, code=data.to_place)
    if data.box_code is not None:
        box = repository.box(session, data.box_code)
        if box is None:
            raise BoxNotFound(f"卡盒 {data.box_code} 不存在")
        cards, from_place = repository.cards_in_box(session, box.code), box.location
        box.location, box.updated_at = data.to_place, utcnow()
    else:
        card = get_card(session, card_ref=data.card_number or "", actor=actor)
        cards, from_place = [card], card.location or "unknown"
    for card in cards:
        _move(session, card, data, actor)
    record = Handover(
        card_id=cards[0].id if data.card_number else None, box_code=data.box_code,
        from_place=from_place, to_place=data.to_place, handler=data.handler,
        receiver=data.receiver, note=data.note, handed_at=utcnow(), recorded_by=actor.id,
    )  # fmt: skip
    session.add(record)
    flush(session)
    return record


def handover_out(session: Session, record: Handover) -> HandoverOut:
    card = repository.card(session, record.card_id) if record.card_id else None
    return HandoverOut(
        id=record.id, card_number=card.card_number if card else None, box_code=record.box_code,
        from_place=record.from_place, to_place=record.to_place, handler=record.handler,
        receiver=record.receiver, note=record.note, handed_at=record.handed_at,
    )  # fmt: skip


def handovers(session: Session, *, card: Card) -> list[HandoverOut]:
    """Every move of the card, including moves of its box."""
    return [handover_out(session, h) for h in repository.handovers_of(session, card)]


def box_contents(session: Session, *, box_code: str) -> list[Card]:
    """The cards packed in a box, by position."""
    if repository.box(session, box_code) is None:
        raise BoxNotFound(f"卡盒 {box_code} 不存在")
    return repository.cards_in_box(session, box_code)


# ---- queries -------------------------------------------------------------------------


def making_progress(session: Session, *, batch_id: int | None = None) -> dict[str, int]:
    """How many cards are in each status (of one batch, or all)."""
    return repository.status_counts(session, batch_id)


def holding(session: Session, *, by: str) -> list[CountRow]:
    """Cards in holders' hands (issued, active or reported lost) per employer or per
    community (card-holding statistics), most first."""
    rows = repository.holding_by(session, by, [s.value for s in lifecycle.HELD])
    return _named_counts(session, by, rows)


def failures_by(session: Session, *, by: str) -> list[CountRow]:
    """Open card-making failures per employer or community."""
    return _named_counts(session, by, repository.failures_by(session, by))


def _named_counts(session: Session, by: str, rows: list[tuple[str, int]]) -> list[CountRow]:
    """The counts with the employers' or communities' names (one query for all names)."""
    keys = [key for key, _ in rows]
    if by == "employer":
        by_id = registry_units.employer_names(session, ids=[int(k) for k in keys])
        names = {str(k): v for k, v in by_id.items()}
    else:
        names = registry_units.community_names(session, codes=keys)
    return [CountRow(key=key, name=names.get(key, key), count=count) for key, count in rows]


def expired(card: Card, today: date | None = None) -> bool:
    return card.expiry_date is not None and card.expiry_date < (today or datetime.now(UTC).date())


def register_subscribers() -> None:
    """Declare the card table's encrypted bank account for key rotation, the lapse of
    temporary losses as a worker chore, and the outbox destinations."""
    fields.register_encrypted_table(CARD_TABLE, "id", ["bank_account_enc"])
    outbox.register_housekeeping("temporary losses lapsed", lapse_all_temporary_losses)
    register_operations()


def lapse_all_temporary_losses(session: Session) -> int:
    """Every temporary loss past its days back to ``active`` (the worker's chore)."""
    total = 0
    while True:
        count = lapse_temporary_losses(session, limit=_LAPSE_ROUND)
        total += count
        if count < _LAPSE_ROUND:
            return total
        session.flush()


_LAPSE_ROUND = 1000


def card_by_number(session: Session, *, card_number: str) -> Card | None:
    """A card by its number, whatever the scope (for other components)."""
    return repository.card_by_number(session, card_number.strip().upper())


def register_operations() -> None:
    """Outbox destinations and reactions of instant making, activation and the province."""
    from sscard.issuance import activation, instant

    activation.register()
    instant.register()
    _EXTRA_ACTION_NAMES.update({**activation.ACTION_NAMES, **instant.ACTION_NAMES})


# ---- counter console: places, the card as the clerk saw it, scanning -----------------


@dataclass(frozen=True, slots=True)
class Place:
    """An institution a card can be chosen at or moved to, as forms list it."""

    code: str
    name: str
    kind: str
    kind_name: str


HANDOVER_TYPES = DISTRIBUTION_TYPES | {
    InstitutionType.hrss_bureau.value,
    InstitutionType.card_vendor.value,
}


def _places(session: Session, actor: Actor, kinds: set[str], covering: str | None) -> list[Place]:
    """Active institutions of ``kinds`` in the actor's region (or covering ``covering``)."""
    prefix = iam_service.region_scope(actor)
    found = []
    for inst in iam_service.list_institutions(session, actor=SYSTEM):
        if inst.type not in kinds or inst.status != "active":
            continue
        near = inst.region_code.startswith(prefix)
        if covering is not None:
            near = region_covers(inst.region_code, covering)
        if near:
            out = iam_service.institution_out(inst)
            found.append(Place(code=out.code, name=out.name, kind=out.type,
                               kind_name=out.type_name))  # fmt: skip
    return found


def cooperating_banks(session: Session, *, region_code: str) -> list[Place]:
    """Active cooperating banks that serve ``region_code`` (an applicant's residence)."""
    return _places(session, SYSTEM, {InstitutionType.bank.value}, region_code)


def pickup_places(session: Session, *, actor: Actor) -> list[Place]:
    """Service halls and bank branches of the actor's region where a card can be collected."""
    return _places(session, actor, DISTRIBUTION_TYPES, None)


def handover_places(session: Session, *, actor: Actor) -> list[Place]:
    """Where cards can be moved to: the city centre, halls, branches, vendors (not holder)."""
    here = _places(session, actor, HANDOVER_TYPES, None)
    codes = {p.code for p in here}
    wider = _places(session, actor, HANDOVER_TYPES, actor.region_code or "")
    return here + [p for p in wider if p.code not in codes]


def place_names(session: Session) -> dict[str, str]:
    """Institution code -> name, and ``holder`` -> 持卡人, for showing where cards are."""
    names = {i.code: i.name for i in iam_service.list_institutions(session, actor=SYSTEM)}
    return {**names, HOLDER: "持卡人"}


def card_at_version(session: Session, *, card_ref: str, version: int | None, actor: Actor) -> Card:
    """The card as the clerk saw it, or ConcurrentChange (409) if it changed since."""
    card = get_card(session, card_ref=card_ref, actor=actor)
    if version is not None and card.version != version:
        raise ConcurrentChange()
    return card


@dataclass(frozen=True, slots=True)
class Scanned:
    """What a scanned code names: a whole box (its cards by position) or one card."""

    box_code: str | None
    box_location: str | None
    cards: list[Card]


def scan(session: Session, *, code: str, actor: Actor) -> Scanned:
    """A box by its code, else a card by number or identification code (handover scanning)."""
    text = code.strip()
    if not text:
        raise ValidationFailed([FieldProblem("code", "请扫描或输入卡盒号或卡号")])
    for candidate in dict.fromkeys((text, text.upper())):
        box = repository.box(session, candidate)
        if box is not None:
            return Scanned(box.code, box.location, repository.cards_in_box(session, box.code))
    try:
        card = get_card(session, card_ref=text, actor=actor)
    except CardNotFound as exc:
        missing = CardNotFound(f"未找到卡盒或卡片 {text[:32]}")
        missing.fields = [FieldProblem("code", "未找到该卡盒或卡片，请核对后重新扫描")]
        raise missing from exc
    return Scanned(None, None, [card])


# ---- many cards at once (batch card making) -----------------------------------------


def transition_many(
    session: Session,
    *,
    moves: Sequence[tuple[Card, dict[str, Any] | None]],
    action: Action,
    actor: Actor,
) -> None:
    """Move many cards by one action with one flush: each checked, timed, recorded and
    announced as :func:`transition` does (not for ``restore``, which needs its card's past)."""
    if action is Action.restore:
        raise ValueError("restore one card at a time")
    now, moved = utcnow(), []
    for card, detail in moves:
        before = Status(card.status)
        try:
            after = lifecycle.next_status(before, action)
        except lifecycle.TransitionRefused as refused:
            raise TransitionNotAllowed(str(refused)) from refused
        if action is Action.cancel:
            card.status_before_cancel = before.value
        if action in _TIMESTAMPS:
            setattr(card, _TIMESTAMPS[action], now)
        card.status, card.updated_at = after.value, now
        _event(session, card, action.value, before.value, actor, detail, audit=False)
        moved.append((card, before, after))
    access.record(
        session,
        AccessRecord(
            action=f"card.{action.value}", subject_type="cards",
            subject_display=f"{len(moved)} 张卡", detail={"count": len(moved)},
        ),
    )  # fmt: skip
    flush(session)
    for card, before, after in moved:
        events.publish(
            session,
            CardStatusChanged(
                card_id=card.id, person_id=card.person_id, card_number=card.card_number,
                action=action.value, from_status=before.value, to_status=after.value,
            ),
        )  # fmt: skip


def record_made_many(
    session: Session, *, made: Sequence[tuple[Card, MadeCard]], actor: Actor
) -> None:
    """:func:`record_made` for many cards of a batch result, with one flush."""
    years = get_settings().card_validity_years
    for card, result in made:
        found = made_problems(card, result)
        if found:
            raise ValidationFailed(found)
        card.card_id_code, card.atr = result.card_id_code, result.atr
        card.bank_account_enc = fields.encrypt_field(
            result.bank_account, table=CARD_TABLE, column="bank_account_enc", row_id=card.id,
            session=session,
        )  # fmt: skip
        card.bank_account_masked = mask_bank_account(result.bank_account)
        card.issue_date = result.issue_date
        card.expiry_date = result.expiry_date or result.issue_date.replace(
            year=result.issue_date.year + years
        )
        card.box_code, card.box_position = result.box_code, result.box_position
    transition_many(
        session, moves=[(card, {"card_id_code": r.card_id_code}) for card, r in made],
        action=Action.made, actor=actor,
    )  # fmt: skip
