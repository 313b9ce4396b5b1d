"""Instant card making at bank branches (即时制卡).

A branch of a cooperating bank (an operator of a bank institution, permission
``issuance.bank``) calls, in order: :func:`open_account` (开户: the applicant is checked like
any application and gets a card number), :func:`make_card` (the branch reports what it
printed: the card is made and issued at the branch) and :func:`activate` (one-step
activation, see ``issuance.activation``). A branch sees only the cards of its own bank.

Every call carries an idempotency key. The first call with a key claims it by inserting
an ``IdempotentCall`` row in its own transaction, before doing anything; the answer is
stored in that row. A concurrent call with the same key waits on that insert (PostgreSQL:
the unique key; SQLite: the single writer) and, once the first commits, finds the row and
gives the first answer again: a retry never makes a second card. The row keeps an HMAC-SM3
digest of the request (operation, card, body); the same key with another request is
refused (409 ``idempotency_key_reused``). A refused call leaves no row (its transaction
rolled back): retrying it with the same key runs it again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from sscard.crypto import fields
from sscard.errors import FieldProblem, ValidationFailed
from sscard.iam.catalog import InstitutionType
from sscard.issuance import lifecycle
from sscard.issuance.activation import service as activation_service
from sscard.issuance.cards import application_service, making_service, number_service
from sscard.issuance.cards import service as cards_service
from sscard.issuance.cards.errors import ApplicationRefused, ConcurrentChange
from sscard.issuance.cards.models import Card
from sscard.issuance.cards.schemas import ApplicationIn, CardOut, NamedStatus, ReplacementIn
from sscard.issuance.instant import repository
from sscard.issuance.instant.errors import BankBranchOnly, IdempotencyMismatch, NotInstantCard
from sscard.issuance.instant.models import IdempotentCall
from sscard.issuance.instant.schemas import InstantAccountIn, InstantAccountOut, InstantMadeIn
from sscard.issuance.lifecycle import Action, Status
from sscard.kit.context import SYSTEM, Actor
from sscard.registry.persons import service as registry_service
from sscard.registry.photos import service as registry_photos
from sscard.settings import get_settings

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,128}$")


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer to a bank's call: the first one, or the first one again (``replayed``)."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def bank_of(actor: Actor) -> str:
    """The bank an actor works for (only bank operators call the instant API)."""
    if actor.institution_type != InstitutionType.bank or not actor.institution_code:
        raise BankBranchOnly()
    return actor.institution_code


def _checked_key(key: str | None) -> str:
    if not key:
        raise ValidationFailed([FieldProblem("Idempotency-Key", "必填：每次调用须携带幂等键")])
    if not KEY_PATTERN.match(key):
        raise ValidationFailed(
            [FieldProblem("Idempotency-Key", "幂等键应为 1-128 个可见 ASCII 字符")]
        )
    return key


def _digest(session: Session, operation: str, ref: str, body: dict[str, Any]) -> str:
    text = json.dumps(
        {"operation": operation, "ref": ref, "body": body},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    index = fields.blind_index(text, purpose="issuance.idempotency", length=32, session=session)
    return index.hex()


def _claim(
    session: Session, bank: str, key: str, operation: str, digest: str
) -> tuple[IdempotentCall, bool]:
    """(the call's row, whether it was stored before); a new row is claimed in this unit."""
    claimed = repository.claim_call(
        session, institution_code=bank, key=key, operation=operation, digest=digest
    )
    row = repository.call(session, institution_code=bank, key=key)
    if row is None:
        raise ConcurrentChange()
    return row, not claimed


def idempotent(
    session: Session,
    *,
    actor: Actor,
    key: str | None,
    operation: str,
    ref: str,
    body: dict[str, Any],
    run: Callable[[], tuple[int, BaseModel]],
) -> Answer:
    """Run ``run`` once per (bank, key); a retry with the same request gets the first answer."""
    bank = bank_of(actor)
    key = _checked_key(key)
    digest = _digest(session, operation, ref, body)
    row, stored = _claim(session, bank, key, operation, digest)
    if stored:
        if row.request_digest != digest or row.operation != operation:
            raise IdempotencyMismatch(
                "该幂等键已用于另一笔不同的请求，请为新请求使用新的幂等键",
                fields=[FieldProblem("Idempotency-Key", "已用于另一笔请求")],
            )
        return Answer(row.status_code, dict(row.response), replayed=True)
    status_code, model = run()
    row.status_code, row.response = status_code, model.model_dump(mode="json")
    session.flush()
    return Answer(status_code, row.response)


def _account_out(session: Session, card: Card) -> InstantAccountOut:
    id_masked, name_masked = registry_service.person_display(session, person_id=card.person_id)
    old = (
        cards_service.card_by_id(session, card_id=card.replaces_card_id)
        if card.replaces_card_id
        else None
    )
    return InstantAccountOut(
        card_id=card.id,
        card_number=card.card_number or "",
        status=NamedStatus(code=card.status, name=lifecycle.STATUS_NAMES[Status(card.status)]),
        kind=card.kind,
        holder_id_number=id_masked,
        holder_name=name_masked,
        region_code=card.region_code,
        bank_code=card.bank_code,
        generation=card.generation,
        photo_url=f"/api/v1/instant/cards/{card.card_number}/photo",
        replaces_card_number=old.card_number if old else None,
    )


def _replacement(session: Session, data: InstantAccountIn, bank: str, actor: Actor) -> Card:
    person = registry_service.get_person(session, id_number=data.id_number, actor=actor)
    if person.status != "normal" or not registry_photos.has_photo(session, person_id=person.id):
        raise ApplicationRefused(
            "申请人状态不是正常或尚无合格照片，不能即时补换卡",
            fields=[FieldProblem("id_number", "状态不正常或缺少照片")],
        )
    old = cards_service.live_card(session, person_id=person.id)
    if old is None or old.bank_code != bank:
        raise ApplicationRefused(
            "申请人没有本行服务的有效卡可补换（其他银行的卡请到柜台办理）",
            fields=[FieldProblem("replacement_reason", "没有本行可补换的卡")],
        )
    reason = data.replacement_reason or "damaged"
    data_in = ReplacementIn(reason=reason, mode="instant", bank_code=bank)
    card = application_service.replace(session, card_ref=old.id, data=data_in, actor=actor)
    card.source, card.generation = "bank", data.generation
    return card


def _taken_at_counter(session: Session, id_number: str, bank: str) -> Card | None:
    """An instant application a service hall took for this bank, waiting for the branch."""
    person = registry_service.find_person(session, id_number=id_number)
    if person is None:
        return None
    card = cards_service.live_card(session, person_id=person.id)
    waiting = card is not None and card.status == Status.applied and card.mode == "instant"
    return card if waiting and card is not None and card.bank_code == bank else None


def _open(session: Session, data: InstantAccountIn, actor: Actor) -> InstantAccountOut:
    bank = bank_of(actor)
    # Take the number block's lock first: every opening then locks in one order (numbers,
    # then the audit chain, which a savepoint in the card's creation may already write).
    number_service.lock_ranges(session, region_code=get_settings().region_code)
    if data.replacement_reason is not None:
        card = _replacement(session, data, bank, actor)
    else:
        waiting = _taken_at_counter(session, data.id_number, bank)
        if waiting is None:
            application = ApplicationIn(
                id_number=data.id_number,
                person=data.person,
                source="bank",
                mode="instant",
                bank_code=bank,
                generation=data.generation,
            )
            waiting = application_service.apply(session, data=application, actor=actor)
        card = waiting
    number_service.assign_number(session, card=card, actor=actor)
    cards_service.flush(session)
    return _account_out(session, card)


def open_account(
    session: Session, *, data: InstantAccountIn, actor: Actor, key: str | None
) -> Answer:
    """开户: check the applicant, create the instant card, allocate its number (idempotent)."""
    return idempotent(
        session,
        actor=actor,
        key=key,
        operation="open_account",
        ref="",
        body=data.model_dump(mode="json"),
        run=lambda: (201, _open(session, data, actor)),
    )


def _instant_card(session: Session, card_ref: str, actor: Actor) -> Card:
    bank_of(actor)
    card = cards_service.get_card(session, card_ref=card_ref, actor=actor)
    if card.mode != "instant":
        raise NotInstantCard("该卡不是即时制卡，请按批量制卡流程办理")
    return card


def _made(session: Session, card_ref: str, data: InstantMadeIn, actor: Actor) -> CardOut:
    card = _instant_card(session, card_ref, actor)
    made = making_service.MadeCard(
        card_id_code=data.card_id_code,
        atr=data.atr,
        bank_account=data.bank_account,
        issue_date=data.issue_date or datetime.now(UTC).date(),
        expiry_date=data.expiry_date,
    )
    making_service.record_made(session, card=card, made=made, actor=actor, instant=True)
    card.location = actor.institution_code
    cards_service.transition(
        session,
        card=card,
        action=Action.issue,
        actor=actor,
        detail={"place": actor.institution_code},
    )
    return cards_service.card_out(session, card)


def make_card(
    session: Session, *, card_ref: str, data: InstantMadeIn, actor: Actor, key: str | None
) -> Answer:
    """制卡: record what the branch printed; the card is made and issued there (idempotent)."""
    return idempotent(
        session,
        actor=actor,
        key=key,
        operation="make_card",
        ref=card_ref.strip().upper(),
        body=data.model_dump(mode="json"),
        run=lambda: (200, _made(session, card_ref, data, actor)),
    )


def activate(session: Session, *, card_ref: str, actor: Actor, key: str | None) -> Answer:
    """启用: one-step activation of a card made at the branch (idempotent)."""

    def run() -> tuple[int, BaseModel]:
        card = _instant_card(session, card_ref, actor)
        return 202, activation_service.start(session, card=card, actor=actor)

    return idempotent(
        session,
        actor=actor,
        key=key,
        operation="activate",
        ref=card_ref.strip().upper(),
        body={},
        run=run,
    )


def photo(session: Session, *, card_ref: str, actor: Actor) -> bytes:
    """The applicant's photo for printing: only to the card's bank, only before it is made."""
    card = _instant_card(session, card_ref, actor)
    if card.status != Status.applied:
        raise NotInstantCard("卡片已制成，不再提供制卡照片")
    id_number = registry_service.id_number_of(session, person_id=card.person_id, actor=SYSTEM)
    return registry_photos.get_photo(session, id_number=id_number, actor=SYSTEM)
