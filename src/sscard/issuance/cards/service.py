"""Cards: the one way a status changes, finding cards, their output, lifecycle
operations (loss, unlock, cancel, restore, the lapse of temporary losses) and PINs.

Every change of a card's status goes through :func:`transition`, which asks the pure state
machine (``lifecycle``), writes the card's timeline, publishes ``CardStatusChanged`` (the
e-card follows it) and relies on the card's version column so that of two concurrent
operations on one card, one wins and the other gets a clear 409. Applications, numbers,
making results, handover and statistics are in the sibling ``*_service`` modules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from sscard import db
from sscard.db import utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.iam import passwords
from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType
from sscard.issuance import lifecycle
from sscard.issuance.cards import repository
from sscard.issuance.cards.errors import (
    CardNotFound,
    ConcurrentChange,
    PinIncorrect,
    PinLocked,
    RestoreRefused,
    TransitionNotAllowed,
)
from sscard.issuance.cards.models import Card, CardEvent
from sscard.issuance.cards.schemas import CardDetail, CardEventOut, CardOut, NamedStatus
from sscard.issuance.events import CardStatusChanged
from sscard.issuance.lifecycle import Action, Status
from sscard.kit import access, events
from sscard.kit.access import AccessRecord
from sscard.kit.context import SYSTEM, Actor, ActorKind
from sscard.kit.masking import mask_card_number
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.errors import PersonNotFound
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


def record_event(
    session: Session,
    card: Card,
    action: str,
    before: str | None,
    actor: Actor,
    detail: dict[str, Any] | None = None,
    *,
    audit: bool = True,
) -> None:
    """Write one timeline entry (and, unless ``audit`` is off, its audit record)."""
    session.add(
        CardEvent(
            card_id=card.id,
            action=action,
            from_status=before,
            to_status=card.status,
            actor_id=actor.id,
            actor_name=actor.name,
            institution_code=actor.institution_code,
            detail=detail or {},
            occurred_at=utcnow(),
        )
    )
    if audit:
        display = mask_card_number(card.card_number) if card.card_number else f"申请{card.id[-6:]}"
        access.record(
            session,
            AccessRecord(
                action=f"card.{action}",
                subject_type="card",
                subject_id=card.id,
                subject_display=display,
                detail={"from": before, "to": card.status},
            ),
        )


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
    record_event(session, card, action.value, before.value, actor, detail)
    flush(session)
    events.publish(
        session,
        CardStatusChanged(
            card_id=card.id,
            person_id=card.person_id,
            card_number=card.card_number,
            action=action.value,
            from_status=before.value,
            to_status=after.value,
        ),
    )
    return card


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
        record_event(session, card, action.value, before.value, actor, detail, audit=False)
        moved.append((card, before, after))
    access.record(
        session,
        AccessRecord(
            action=f"card.{action.value}",
            subject_type="cards",
            subject_display=f"{len(moved)} 张卡",
            detail={"count": len(moved)},
        ),
    )
    flush(session)
    for card, before, after in moved:
        events.publish(
            session,
            CardStatusChanged(
                card_id=card.id,
                person_id=card.person_id,
                card_number=card.card_number,
                action=action.value,
                from_status=before.value,
                to_status=after.value,
            ),
        )


def record_in_scope(
    actor: Actor,
    *,
    bank_code: str | None,
    region_code: str,
    managing_region_code: str,
    holder_in_scope: bool = False,
) -> bool:
    """The card scope rule on a card's fields (also for the province's records of cards).

    A bank operator sees the cards its bank serves; a card vendor sees only cards at its
    own premises (see :func:`in_scope`), never a record by region; everyone else sees the
    cards issued or managed in their region, and every card of a holder in their region
    (``holder_in_scope``, when the caller has checked the holder).
    """
    if actor.kind is ActorKind.operator and actor.institution_type == InstitutionType.bank:
        return bank_code is not None and bank_code == actor.institution_code
    if actor.kind is ActorKind.operator and actor.institution_type == InstitutionType.card_vendor:
        return False
    prefix = iam_service.region_scope(actor)
    in_region = managing_region_code.startswith(prefix) or region_code.startswith(prefix)
    return holder_in_scope or in_region


def in_scope(session: Session, actor: Actor, card: Card) -> bool:
    """Whether ``actor`` may see ``card``: the one scope rule of every path returning a card.

    A card vendor sees the cards it holds or packed (the card's location is the vendor,
    or the card lies in one of its boxes); a bank as :func:`record_in_scope`; every other
    actor the cards issued or managed in its region and the cards of holders in its region.
    """
    if actor.kind is ActorKind.operator and actor.institution_type == InstitutionType.card_vendor:
        if card.location is not None and card.location == actor.institution_code:
            return True
        box = repository.box(session, card.box_code) if card.box_code else None
        return box is not None and box.vendor_code == actor.institution_code
    if record_in_scope(
        actor,
        bank_code=card.bank_code,
        region_code=card.region_code,
        managing_region_code=card.managing_region_code,
    ):
        return True
    if actor.kind is ActorKind.operator and actor.institution_type == InstitutionType.bank:
        return False
    try:
        registry_service.get_person_in_scope(session, person_id=card.person_id, actor=actor)
    except PersonNotFound:
        return False
    return True


_COUNTERS = {InstitutionType.service_hall.value, InstitutionType.bank.value}


HOLDER = "holder"
"""The location of a card in its holder's hands."""


_ON_THE_WAY = {Status.made.value, Status.in_transit.value, Status.at_distribution_point.value}


def at_counter(session: Session, actor: Actor, card: Card) -> bool:
    """Whether ``card`` sits at the actor's own hall or bank branch (or is on its way there
    to be collected, or was issued there): the counter there hands it over, issues it to the
    holder and prints its receipts, wherever the holder lives. Only for finding, handover and
    issue; every other operation keeps to :func:`in_scope`."""
    if actor.kind is not ActorKind.operator or actor.institution_type not in _COUNTERS:
        return False
    here = actor.institution_code
    if not here:
        return False
    if card.location == here:
        return True
    if card.pickup_place == here and card.status in _ON_THE_WAY:
        return True
    return card.location == HOLDER and repository.issued_at(session, card.id, here)


def counter_in_scope(session: Session, actor: Actor, card: Card) -> bool:
    """The scope of finding, handing over and issuing a card: a card at the actor's counter
    (:func:`at_counter`) or a card in the actor's scope (:func:`in_scope`)."""
    return at_counter(session, actor, card) or in_scope(session, actor, card)


def reads_registry(actor: Actor) -> bool:
    """Whether the actor may learn that a person is registered (else "not registered" and
    "not yours" must look the same to it)."""
    return actor.kind is ActorKind.system or actor.can("*") or actor.can("registry.read")


def _lapse_if_due(session: Session, card: Card) -> Card:
    if card.status == Status.temporarily_lost and card.lost_at is not None:
        if lifecycle.lapsed(lost_at=card.lost_at, now=utcnow(), policy=policy()):
            transition(session, card=card, action=Action.lapse, actor=SYSTEM)
    return card


def _find(session: Session, card_ref: str) -> Card:
    ref = card_ref.strip().upper()
    card = (
        repository.card_by_number(session, ref)
        or repository.card_by_id_code(session, ref)
        or repository.card(session, card_ref.strip())
    )
    if card is None:
        raise CardNotFound()
    return card


def get_card(session: Session, *, card_ref: str, actor: Actor) -> Card:
    """A card by card number, card identification code or id, within the actor's scope."""
    card = _find(session, card_ref)
    if not in_scope(session, actor, card):
        _record_refused(session, card)
        raise CardNotFound()
    return _lapse_if_due(session, card)


def get_card_at_counter(session: Session, *, card_ref: str, actor: Actor) -> Card:
    """A card as :func:`get_card` finds it, or one sitting at the actor's own counter
    (:func:`counter_in_scope`): for reading, handover and issue only."""
    card = _find(session, card_ref)
    if not counter_in_scope(session, actor, card):
        _record_refused(session, card)
        raise CardNotFound()
    return _lapse_if_due(session, card)


def _record_refused(session: Session, card: Card) -> None:
    """Audit a card read refused by the actor's scope, with the holder as the (masked)
    subject; kept though the request fails."""
    with access.suppress_reads(session):
        id_masked, _name = registry_service.person_display(session, person_id=card.person_id)
    access.record(
        session,
        AccessRecord(
            action="card.read",
            subject_type="person",
            subject_id=card.person_id,
            subject_display=id_masked,
            outcome="denied",
            detail={"reason": "out_of_scope", "card": mask_card_number(card.card_number)},
        ),
        keep_on_failure=True,
    )


def cards_of_person(session: Session, *, id_number: str, actor: Actor) -> list[Card]:
    """Every card of a person that the actor may see, newest first.

    An actor who reads the registry gets PersonNotFound for a person outside its region; an
    actor who does not gets an empty list both for an unregistered ID number and for a
    person none of whose cards it may see, so the answer does not tell them apart.
    """
    person = registry_service.find_person(session, id_number=id_number)
    found = repository.cards_of_person(session, person.id) if person is not None else []
    here = [c for c in found if at_counter(session, actor, c)]
    if reads_registry(actor) and not here:
        registry_service.get_person(session, id_number=id_number, actor=actor)
    return [_lapse_if_due(session, c) for c in found if counter_in_scope(session, actor, c)]


def cards_of_person_id(session: Session, *, person_id: str, actor: Actor) -> list[Card]:
    """Every card of the person with this internal id that the actor may reach (as
    :func:`cards_of_person` lists them), newest first; none for an unknown id."""
    found = repository.cards_of_person(session, person_id)
    return [_lapse_if_due(session, c) for c in found if counter_in_scope(session, actor, c)]


def holder_in_region(session: Session, *, id_number: str, actor: Actor) -> bool:
    """Whether the person with ``id_number`` is registered in the actor's region (a look at
    a person elsewhere is audited as refused)."""
    try:
        registry_service.get_person(session, id_number=id_number, actor=actor)
    except PersonNotFound:
        return False
    return True


def live_card(session: Session, *, person_id: str) -> Card | None:
    """The person's one card that is not failed or cancelled (for other components)."""
    return repository.live_card_of_person(session, person_id)


def card_by_id(session: Session, *, card_id: str) -> Card:
    """A card by its internal id, whatever the scope (for other components)."""
    card = repository.card(session, card_id)
    if card is None:
        raise CardNotFound()
    return card


def card_by_number(session: Session, *, card_number: str) -> Card | None:
    """A card by its number, whatever the scope (for other components)."""
    return repository.card_by_number(session, card_number.strip().upper())


def card_at_version(session: Session, *, card_ref: str, version: int | None, actor: Actor) -> Card:
    """The card as the clerk saw it, or ConcurrentChange (409) if it changed since."""
    card = get_card(session, card_ref=card_ref, actor=actor)
    if version is not None and card.version != version:
        raise ConcurrentChange()
    return card


def card_out(session: Session, card: Card) -> CardOut:
    id_masked, name_masked = registry_service.person_display(session, person_id=card.person_id)
    batch_no = repository.batch_no(session, card.batch_id) if card.batch_id else None
    return CardOut(
        id=card.id,
        person_id=card.person_id,
        holder_id_number=id_masked,
        holder_name=name_masked,
        card_number=card.card_number,
        card_id_code=card.card_id_code,
        status=NamedStatus(code=card.status, name=lifecycle.STATUS_NAMES[Status(card.status)]),
        kind=card.kind,
        reason=card.reason,
        source=card.source,
        mode=card.mode,
        generation=card.generation,
        region_code=card.region_code,
        managing_region_code=card.managing_region_code,
        bank_code=card.bank_code,
        bank_account=card.bank_account_masked,
        pickup_place=card.pickup_place,
        location=card.location,
        box_code=card.box_code,
        box_position=card.box_position,
        batch_no=batch_no,
        issue_date=card.issue_date,
        expiry_date=card.expiry_date,
        is_offsite=card.is_offsite,
        pin_set=card.pin_hash is not None,
        pin_locked=lifecycle.pin_locked(card.pin_failures, policy()),
        bank_account_active=card.bank_account_active,
        transport_enabled=card.transport_enabled,
        replaces_card_id=card.replaces_card_id,
        replaced_by_card_id=card.replaced_by_card_id,
        allowed_actions=[a.value for a in lifecycle.allowed_actions(Status(card.status))],
        applied_at=card.applied_at,
        activated_at=card.activated_at,
        cancelled_at=card.cancelled_at,
        version=card.version,
    )


def card_detail(session: Session, card: Card) -> CardDetail:
    """The card with its whole timeline."""
    timeline = [
        CardEventOut(
            id=e.id,
            action=e.action,
            action_name=lifecycle.action_name(e.action),
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


def note(
    session: Session, *, card: Card, action: str, actor: Actor, detail: dict[str, Any]
) -> None:
    """Add a timeline entry that does not change the status (handover, PIN, transfer ...)."""
    record_event(session, card, action, card.status, actor, detail)


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
    return transition(
        session, card=card, action=Action.cancel, actor=actor, detail={"reason": reason}
    )


def restore(session: Session, *, card_ref: str, actor: Actor) -> Card:
    """Undo a cancellation made in error (注销还原), within the window, if not replaced."""
    card = get_card(session, card_ref=card_ref, actor=actor)
    if card.status == Status.cancelled and card.cancelled_at is not None:
        why = lifecycle.can_restore(
            cancelled_at=card.cancelled_at,
            now=utcnow(),
            replaced=card.replaced_by_card_id is not None,
            policy=policy(),
        )
        if why:
            raise RestoreRefused(why)
        if repository.live_card_of_person(session, card.person_id) is not None:
            raise RestoreRefused("持卡人已有其他有效卡，不能还原")
    return transition(session, card=card, action=Action.restore, actor=actor)


def lapse_temporary_losses(
    session: Session, *, now: datetime | None = None, limit: int = 1000
) -> int:
    """Return lapsed temporary losses to ``active``; how many lapsed."""
    before = (now or utcnow()) - timedelta(days=policy().temporary_loss_days)
    cards = repository.lapsed_temporary_losses(session, before, limit)
    for card in cards:
        transition(session, card=card, action=Action.lapse, actor=SYSTEM)
    return len(cards)


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
    repository.count_pin_failure(session, card_id)


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


def expired(card: Card, today: date | None = None) -> bool:
    return card.expiry_date is not None and card.expiry_date < (today or datetime.now(UTC).date())
