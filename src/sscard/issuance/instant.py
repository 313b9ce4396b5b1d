"""Instant card making at bank branches (即时制卡), and the cards' records at the province:
off-site cards (异地卡), transfer between cities (地市卡转移), cancelling the provincial
record (注销省厅卡信息), a person's provincial card information.

Instant making
==============
A branch of a cooperating bank (an operator of a bank institution, permission
``issuance.bank``) calls, in order: :func:`open_account` (开户: the applicant is checked like
any application and gets a card number), :func:`make_card` (the branch reports what it
printed: the card is made and issued at the branch) and :func:`activate` (one-step
activation, see ``activation.py``). A branch sees only the cards of its own bank.

Every call carries an idempotency key. The first call with a key claims it by inserting
an ``IdempotentCall`` row in its own transaction, before doing anything; the answer is
stored in that row. A concurrent call with the same key waits on that insert (PostgreSQL:
the unique key; SQLite: the single writer) and, once the first commits, finds the row and
gives the first answer again: a retry never makes a second card. The row keeps an HMAC-SM3
digest of the request (operation, card, body); the same key with another request is
refused (409 ``idempotency_key_reused``). A refused call leaves no row (its transaction
rolled back): retrying it with the same key runs it again.

The province
============
- Off-site card download: the province is asked for the person's cards; the newest one
  issued by another city that is still held (issued, active, lost) becomes a local record
  with ``is_offsite`` set, managed by the issuing city, provided the person (registered
  here) has no other live card here.
- Transfer (:func:`transfer_refusal`): a card held by its holder (issued, active or lost)
  moves into this city's management or out of it, never between two other cities.
- Provincial record cancel (:func:`province_cancel_refusal`): only for a card cancelled (or
  failed) here first and managed here, once. Afterwards the local cancellation can no
  longer be restored (注销还原): :func:`refuse_restore_after_province_cancel`.
The province is told through the outbox (destination ``issuance.province``) after commit;
its answer (informed, or refused with its reason) is written on the card's timeline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sscard import db
from sscard.crypto import fields
from sscard.db import new_id, utcnow
from sscard.errors import Conflict, FieldProblem, NotFound, PermissionDenied, ValidationFailed
from sscard.exchange import service as exchange_service
from sscard.iam.catalog import InstitutionType
from sscard.issuance import activation, lifecycle, numbers, repository, service
from sscard.issuance.errors import (
    ActiveCardExists,
    ApplicationRefused,
    CardNotFound,
    ConcurrentChange,
    IdempotencyMismatch,
    RestoreRefused,
)
from sscard.issuance.events import CardStatusChanged
from sscard.issuance.lifecycle import Action, Status
from sscard.issuance.models import Card, CardEvent, IdempotentCall
from sscard.issuance.schemas import (
    ApplicationIn,
    CardOut,
    InstantAccountIn,
    InstantAccountOut,
    InstantMadeIn,
    NamedStatus,
    PersonCardsOut,
    ProvinceCardOut,
    ReplacementIn,
)
from sscard.kit import events, outbox
from sscard.kit.context import SYSTEM, Actor
from sscard.kit.masking import mask_card_number, mask_name
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.errors import PersonNotFound
from sscard.registry.photos import service as registry_photos
from sscard.settings import get_settings

PROVINCE = "issuance.province"
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,128}$")
HELD = frozenset({Status.issued, Status.active, Status.temporarily_lost, Status.lost})
"""A card its holder has in hand: it may be downloaded, transferred."""
ACTION_NAMES = {
    "province_cancel": "注销省级卡信息", "province_informed": "省卡管已确认",
    "province_refused": "省卡管拒绝",
}  # fmt: skip
"""Timeline actions written here (shown by ``service.card_detail``)."""


class BankBranchOnly(PermissionDenied):
    code = "bank_branch_only"

    def __init__(self) -> None:
        super().__init__("即时制卡接口仅供合作银行网点的经办人员调用")


class NotInstantCard(Conflict):
    code = "not_instant_card"


class OffsiteCardNotFound(NotFound):
    code = "offsite_card_not_found"

    def __init__(self) -> None:
        super().__init__("省卡管中没有该人员在外地市发行、仍在使用的社会保障卡")


class TransferRefused(Conflict):
    code = "transfer_refused"


class ProvinceCancelRefused(Conflict):
    code = "province_cancel_refused"


# ---- pure rules ------------------------------------------------------------------------


def is_city_code(code: str) -> bool:
    """A city-level GB/T 2260 code: 6 digits, ``XXYY00`` with ``YY`` not ``00``."""
    return bool(re.fullmatch(r"\d{6}", code)) and code[4:] == "00" and code[2:4] != "00"


def transfer_refusal(*, status: Status, from_region: str, to_region: str, here: str) -> str | None:
    """Why a card's management cannot move from ``from_region`` to ``to_region``, or None."""
    if status not in HELD:
        return f"卡片当前状态为“{lifecycle.STATUS_NAMES[status]}”，不能办理地市卡转移"
    if not is_city_code(to_region):
        return "转入地市应为地市级行政区划代码（如 370100）"
    if to_region == from_region:
        return f"该卡已由 {to_region} 管理"
    if here not in (from_region, to_region):
        return "只能转出本市管理的卡，或将外地卡转入本市管理"
    return None


def province_cancel_refusal(
    *, status: Status, managing_region: str, here: str, already: bool
) -> str | None:
    """Why a card's provincial record cannot be cancelled from here, or None."""
    if managing_region != here:
        return f"该卡由 {managing_region} 管理，应由该地市注销省级卡信息"
    if status not in (Status.cancelled, Status.failed):
        name = lifecycle.STATUS_NAMES[status]
        return f"请先注销本地卡片（当前状态“{name}”），再注销省级卡信息"
    if already:
        return "该卡的省级卡信息已注销"
    return None


# ---- idempotent calls --------------------------------------------------------------------


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
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )  # fmt: skip
    index = fields.blind_index(text, purpose="issuance.idempotency", length=32, session=session)
    return index.hex()


def _insert(session: Session) -> postgresql.Insert | sqlite.Insert:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(IdempotentCall)


def _claim(
    session: Session, bank: str, key: str, operation: str, digest: str
) -> tuple[IdempotentCall, bool]:
    """(the call's row, whether it was stored before); a new row is claimed in this unit.

    One ``INSERT ... ON CONFLICT DO NOTHING``: a concurrent call with the same key waits for
    the first one's transaction and then finds its row. No savepoint, so nothing else of
    the unit of work (the audit records) is written early.
    """
    values = {
        "institution_code": bank, "key": key, "operation": operation, "request_digest": digest,
        "status_code": 0, "response": {}, "created_at": utcnow(),
    }  # fmt: skip
    stmt = (
        _insert(session)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["institution_code", "key"])
    )
    claimed = session.execute(stmt.returning(IdempotentCall.key)).first() is not None
    row = session.get(IdempotentCall, (bank, key), populate_existing=True)
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


# ---- instant making --------------------------------------------------------------------


def _account_out(session: Session, card: Card) -> InstantAccountOut:
    id_masked, name_masked = registry_service.person_display(session, person_id=card.person_id)
    old = repository.card(session, card.replaces_card_id) if card.replaces_card_id else None
    return InstantAccountOut(
        card_id=card.id, card_number=card.card_number or "",
        status=NamedStatus(code=card.status, name=lifecycle.STATUS_NAMES[Status(card.status)]),
        kind=card.kind, holder_id_number=id_masked, holder_name=name_masked,
        region_code=card.region_code, bank_code=card.bank_code, generation=card.generation,
        photo_url=f"/api/v1/instant/cards/{card.card_number}/photo",
        replaces_card_number=old.card_number if old else None,
    )  # fmt: skip


def _replacement(session: Session, data: InstantAccountIn, bank: str, actor: Actor) -> Card:
    person = registry_service.get_person(session, id_number=data.id_number, actor=actor)
    if person.status != "normal" or not registry_photos.has_photo(session, person_id=person.id):
        raise ApplicationRefused(
            "申请人状态不是正常或尚无合格照片，不能即时补换卡",
            fields=[FieldProblem("id_number", "状态不正常或缺少照片")],
        )
    old = service.live_card(session, person_id=person.id)
    if old is None or old.bank_code != bank:
        raise ApplicationRefused(
            "申请人没有本行服务的有效卡可补换（其他银行的卡请到柜台办理）",
            fields=[FieldProblem("replacement_reason", "没有本行可补换的卡")],
        )
    reason = data.replacement_reason or "damaged"
    data_in = ReplacementIn(reason=reason, mode="instant", bank_code=bank)
    card = service.replace(session, card_ref=old.id, data=data_in, actor=actor)
    card.source, card.generation = "bank", data.generation
    return card


def _taken_at_counter(session: Session, id_number: str, bank: str) -> Card | None:
    """An instant application a service hall took for this bank, waiting for the branch."""
    person = registry_service.find_person(session, id_number=id_number)
    if person is None:
        return None
    card = service.live_card(session, person_id=person.id)
    waiting = card is not None and card.status == Status.applied and card.mode == "instant"
    return card if waiting and card is not None and card.bank_code == bank else None


def _open(session: Session, data: InstantAccountIn, actor: Actor) -> InstantAccountOut:
    bank = bank_of(actor)
    # Take the number block's lock first: every opening then locks in one order (numbers,
    # then the audit chain, which a savepoint in the card's creation may already write).
    repository.ranges_for_update(session, get_settings().region_code)
    if data.replacement_reason is not None:
        card = _replacement(session, data, bank, actor)
    else:
        waiting = _taken_at_counter(session, data.id_number, bank)
        if waiting is None:
            application = ApplicationIn(
                id_number=data.id_number, person=data.person, source="bank", mode="instant",
                bank_code=bank, generation=data.generation,
            )  # fmt: skip
            waiting = service.apply(session, data=application, actor=actor)
        card = waiting
    service.assign_number(session, card=card, actor=actor)
    service.flush(session)
    return _account_out(session, card)


def open_account(
    session: Session, *, data: InstantAccountIn, actor: Actor, key: str | None
) -> Answer:
    """开户: check the applicant, create the instant card, allocate its number (idempotent)."""
    return idempotent(
        session, actor=actor, key=key, operation="open_account", ref="",
        body=data.model_dump(mode="json"), run=lambda: (201, _open(session, data, actor)),
    )  # fmt: skip


def _instant_card(session: Session, card_ref: str, actor: Actor) -> Card:
    bank_of(actor)
    card = service.get_card(session, card_ref=card_ref, actor=actor)
    if card.mode != "instant":
        raise NotInstantCard("该卡不是即时制卡，请按批量制卡流程办理")
    return card


def _made(session: Session, card_ref: str, data: InstantMadeIn, actor: Actor) -> CardOut:
    card = _instant_card(session, card_ref, actor)
    made = service.MadeCard(
        card_id_code=data.card_id_code, atr=data.atr, bank_account=data.bank_account,
        issue_date=data.issue_date or datetime.now(UTC).date(), expiry_date=data.expiry_date,
    )  # fmt: skip
    service.record_made(session, card=card, made=made, actor=actor, instant=True)
    card.location = actor.institution_code
    service.transition(session, card=card, action=Action.issue, actor=actor,
                       detail={"place": actor.institution_code})  # fmt: skip
    return service.card_out(session, card)


def make_card(
    session: Session, *, card_ref: str, data: InstantMadeIn, actor: Actor, key: str | None
) -> Answer:
    """制卡: record what the branch printed; the card is made and issued there (idempotent)."""
    return idempotent(
        session, actor=actor, key=key, operation="make_card", ref=card_ref.strip().upper(),
        body=data.model_dump(mode="json"), run=lambda: (200, _made(session, card_ref, data, actor)),
    )  # fmt: skip


def activate(session: Session, *, card_ref: str, actor: Actor, key: str | None) -> Answer:
    """启用: one-step activation of a card made at the branch (idempotent)."""

    def run() -> tuple[int, BaseModel]:
        card = _instant_card(session, card_ref, actor)
        return 202, activation.start(session, card=card, actor=actor)

    return idempotent(
        session, actor=actor, key=key, operation="activate", ref=card_ref.strip().upper(),
        body={}, run=run,
    )  # fmt: skip


def photo(session: Session, *, card_ref: str, actor: Actor) -> bytes:
    """The applicant's photo for printing: only to the card's bank, only before it is made."""
    card = _instant_card(session, card_ref, actor)
    if card.status != Status.applied:
        raise NotInstantCard("卡片已制成，不再提供制卡照片")
    id_number = registry_service.id_number_of(session, person_id=card.person_id, actor=SYSTEM)
    return registry_photos.get_photo(session, id_number=id_number, actor=SYSTEM)


# ---- the province: off-site cards, transfer, provincial record ---------------------------


def _here() -> str:
    return get_settings().region_code


def _offsite_choice(
    cards: list[exchange_service.ProvinceCard], here: str
) -> exchange_service.ProvinceCard:
    held = {s.value for s in HELD}
    candidates = [c for c in cards if c.region_code != here and c.status in held]
    if not candidates:
        raise OffsiteCardNotFound()
    return max(candidates, key=lambda c: (c.issue_date is not None, c.issue_date))


def _offsite_card(person_id: str, found: exchange_service.ProvinceCard, actor: Actor) -> Card:
    problems = numbers.card_id_code_problems(found.card_id_code, region_code=found.region_code)
    problems += numbers.card_number_problems(found.card_number)
    if problems:
        raise ValidationFailed(problems, message="省卡管返回的卡号或卡识别码无效")
    now = utcnow()
    return Card(
        id=new_id(), person_id=person_id, status=found.status, kind="new", source="province",
        mode="offsite", generation=found.generation, region_code=found.region_code,
        managing_region_code=found.managing_region_code, bank_code=found.bank_code or "unknown",
        card_number=found.card_number, card_id_code=found.card_id_code,
        issue_date=found.issue_date, expiry_date=found.expiry_date, location=service.HOLDER,
        is_offsite=True, pin_failures=0, bank_account_active=False, transport_enabled=False,
        applied_by=actor.id, applied_at=now, created_at=now, updated_at=now,
    )  # fmt: skip


def download_offsite(session: Session, *, id_number: str, actor: Actor) -> Card:
    """异地卡信息下载: record here the card another city issued to a person registered here."""
    person = registry_service.get_person(session, id_number=id_number, actor=actor)
    found = _offsite_choice(exchange_service.province_cards_of(id_number=id_number), _here())
    existing = repository.card_by_number(session, found.card_number)
    if existing is not None:
        if existing.person_id != person.id:
            raise Conflict(f"卡号 {mask_card_number(found.card_number)} 已登记在其他人员名下")
        return existing
    live = service.live_card(session, person_id=person.id)
    if live is not None:
        raise ActiveCardExists(
            f"该人员在本市已有有效卡（{mask_card_number(live.card_number)}），不能再下载外地卡"
        )
    card = _offsite_card(person.id, found, actor)
    session.add(card)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise ActiveCardExists("该人员已有有效卡，或该卡已被下载") from exc
    detail = {
        "card_number": found.card_number,
        "region_code": found.region_code,
        "managing_region_code": found.managing_region_code,
        "province_status": found.status,
    }
    service.note(session, card=card, action="download", actor=actor, detail=detail)
    return card


def _province_card(session: Session, card_ref: str, actor: Actor) -> Card:
    """A card in the actor's scope, or an off-site card of a person in the actor's scope."""
    try:
        return service.get_card(session, card_ref=card_ref, actor=actor)
    except CardNotFound:
        ref = card_ref.strip().upper()
        card = repository.card_by_number(session, ref) or repository.card_by_id_code(session, ref)
        if card is None or not card.is_offsite:
            raise
        try:
            registry_service.get_person_in_scope(session, person_id=card.person_id, actor=actor)
        except PersonNotFound:
            raise CardNotFound() from None
        return card


def _notify_province(session: Session, card: Card, kind: str, detail: dict[str, str]) -> None:
    outbox.enqueue(
        session, destination=PROVINCE, payload={"card_id": card.id, "kind": kind, **detail},
        key=f"province:{kind}:{card.id}:{card.version}",
    )  # fmt: skip


def transfer(session: Session, *, card_ref: str, to_region_code: str, actor: Actor) -> Card:
    """地市卡转移: move the card's management into or out of this city; the province is told."""
    card = _province_card(session, card_ref, actor)
    before = card.managing_region_code
    why = transfer_refusal(
        status=Status(card.status), from_region=before, to_region=to_region_code, here=_here()
    )
    if why:
        raise TransferRefused(why)
    card.managing_region_code, card.updated_at = to_region_code, utcnow()
    service.note(session, card=card, action="transfer", actor=actor,
                 detail={"from": before, "to": to_region_code})  # fmt: skip
    service.flush(session)
    _notify_province(session, card, "transfer", {"from": before, "to": to_region_code})
    return card


def _province_cancelled(session: Session, card_id: str) -> bool:
    stmt = select(CardEvent.id).where(
        CardEvent.card_id == card_id, CardEvent.action == "province_cancel"
    )
    return session.scalars(stmt.limit(1)).first() is not None


def cancel_in_province(session: Session, *, card_ref: str, reason: str, actor: Actor) -> Card:
    """注销省厅卡信息: cancel the card's provincial record (the local card cancelled first)."""
    card = _province_card(session, card_ref, actor)
    why = province_cancel_refusal(
        status=Status(card.status), managing_region=card.managing_region_code, here=_here(),
        already=_province_cancelled(session, card.id),
    )  # fmt: skip
    if why:
        raise ProvinceCancelRefused(why)
    service.note(session, card=card, action="province_cancel", actor=actor,
                 detail={"reason": reason})  # fmt: skip
    card.updated_at = utcnow()
    service.flush(session)
    _notify_province(session, card, "cancel", {"reason": reason})
    return card


def refuse_restore_after_province_cancel(session: Session, event: CardStatusChanged) -> None:
    """A cancellation whose provincial record is gone cannot be restored (注销还原)."""
    if event.action == Action.restore and _province_cancelled(session, event.card_id):
        raise RestoreRefused("该卡的省级卡信息已注销，不能注销还原")


def person_cards(session: Session, *, id_number: str, actor: Actor) -> PersonCardsOut:
    """A person's local cards and the province's records of their cards (个人卡信息)."""
    local = service.cards_of_person(session, id_number=id_number, actor=actor)
    error = None
    try:
        provincial = exchange_service.province_cards_of(id_number=id_number)
    except exchange_service.PEER_OUTAGES + exchange_service.PEER_REFUSALS as exc:
        provincial, error = [], str(exc)
    numbers_here = {c.card_number for c in local}
    return PersonCardsOut(
        local=[service.card_out(session, c) for c in local],
        provincial=[
            ProvinceCardOut(
                card_number=c.card_number, card_id_code=c.card_id_code,
                holder_name=mask_name(c.name), region_code=c.region_code,
                managing_region_code=c.managing_region_code, status=c.status,
                status_name=_status_name(c.status), bank_code=c.bank_code,
                generation=c.generation, issue_date=c.issue_date, expiry_date=c.expiry_date,
                local=c.card_number in numbers_here,
            )
            for c in provincial
        ],
        provincial_error=error,
    )  # fmt: skip


def _status_name(status: str) -> str:
    try:
        return lifecycle.STATUS_NAMES[Status(status)]
    except ValueError:
        return status


@dataclass(frozen=True, slots=True)
class _Notice:
    id_number: str
    card_number: str
    card_id_code: str | None
    region_code: str
    managing_region_code: str


def _notice(card_id: str) -> _Notice | None:
    with db.transaction() as session:
        card = session.get(Card, card_id)
        if card is None or card.card_number is None:
            return None
        id_number = registry_service.id_number_of(session, person_id=card.person_id, actor=SYSTEM)
        return _Notice(id_number, card.card_number, card.card_id_code, card.region_code,
                       card.managing_region_code)  # fmt: skip


def _send_notice(notice: _Notice, payload: dict[str, Any], key: str) -> None:
    if payload["kind"] == "transfer":
        exchange_service.province_report_transfer(
            id_number=notice.id_number, card_number=notice.card_number,
            card_id_code=notice.card_id_code, region_code=notice.region_code,
            from_region_code=str(payload["from"]), to_region_code=str(payload["to"]), key=key,
        )  # fmt: skip
    else:
        exchange_service.province_cancel_record(
            id_number=notice.id_number, card_number=notice.card_number,
            card_id_code=notice.card_id_code, region_code=notice.region_code,
            managing_region_code=notice.managing_region_code, reason=str(payload["reason"]),
            key=key,
        )  # fmt: skip


def deliver_province(message: outbox.Message) -> None:
    """Outbox handler of ``issuance.province``: transfer and cancel notices."""
    card_id, kind = str(message.payload["card_id"]), str(message.payload["kind"])
    notice = _notice(card_id)
    if notice is None:
        return
    try:
        _send_notice(notice, message.payload, message.key or f"province:{message.id}")
    except exchange_service.PEER_REFUSALS as exc:
        _province_answer(card_id, "province_refused", {"kind": kind, "reason": str(exc)[:200]})
        raise outbox.PermanentFailure(str(exc)) from exc
    except exchange_service.PEER_OUTAGES as exc:
        if message.attempt >= message.max_attempts:
            detail = {"kind": kind, "reason": str(exc)[:200]}
            _province_answer(card_id, "province_refused", detail)
        raise
    _province_answer(card_id, "province_informed", {"kind": kind})


def _province_answer(card_id: str, action: str, detail: dict[str, str]) -> None:
    with db.transaction() as session:
        card = session.get(Card, card_id)
        if card is not None:
            service.note(session, card=card, action=action, actor=SYSTEM, detail=detail)


def register() -> None:
    """The province's outbox destination and the restore guard (called at start-up)."""
    outbox.register_destination(PROVINCE, deliver_province, max_attempts=12)
    events.subscribe(CardStatusChanged, refuse_restore_after_province_cancel)
