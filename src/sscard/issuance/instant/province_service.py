"""The cards' records at the province: off-site cards (异地卡), transfer between cities
(地市卡转移), cancelling the provincial record (注销省厅卡信息), a person's provincial card
information.

- Off-site card download: the province is asked for the person's cards; the newest one
  issued by another city that is still held (issued, active, lost) becomes a local record
  with ``is_offsite`` set, managed by the issuing city, provided the person (registered
  here) has no other live card here.
- Transfer (``province_rules.transfer_refusal``): a card held by its holder (issued, active
  or lost) moves into this city's management or out of it, never between two other cities.
- Provincial record cancel (``province_rules.province_cancel_refusal``): only for a card
  cancelled (or failed) here first and managed here, once. Afterwards the local cancellation can no
  longer be restored (注销还原): :func:`refuse_restore_after_province_cancel`.
The province is told through the outbox (destination ``issuance.province``) after commit;
its answer (informed, or refused with its reason) is written on the card's timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sscard import db
from sscard.db import new_id, utcnow
from sscard.errors import Conflict, ValidationFailed
from sscard.exchange.peers import service as exchange_peers
from sscard.issuance import lifecycle, numbers
from sscard.issuance.cards import repository as cards_repository
from sscard.issuance.cards import service as cards_service
from sscard.issuance.cards.errors import ActiveCardExists, CardNotFound, RestoreRefused
from sscard.issuance.cards.handover_service import HOLDER
from sscard.issuance.cards.models import Card
from sscard.issuance.events import CardStatusChanged
from sscard.issuance.instant import repository
from sscard.issuance.instant.errors import (
    OffsiteCardNotFound,
    ProvinceCancelRefused,
    TransferRefused,
)
from sscard.issuance.instant.province_rules import province_cancel_refusal, transfer_refusal
from sscard.issuance.instant.schemas import PersonCardsOut, ProvinceCardOut
from sscard.issuance.lifecycle import HELD, Action, Status
from sscard.kit import outbox
from sscard.kit.context import SYSTEM, Actor
from sscard.kit.masking import mask_card_number, mask_name
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.errors import PersonNotFound
from sscard.settings import get_settings

PROVINCE = "issuance.province"


def _here() -> str:
    return get_settings().region_code


def _offsite_choice(
    cards: list[exchange_peers.ProvinceCard], here: str
) -> exchange_peers.ProvinceCard:
    held = {s.value for s in HELD}
    candidates = [c for c in cards if c.region_code != here and c.status in held]
    if not candidates:
        raise OffsiteCardNotFound()
    return max(candidates, key=lambda c: (c.issue_date is not None, c.issue_date))


def _offsite_card(person_id: str, found: exchange_peers.ProvinceCard, actor: Actor) -> Card:
    problems = numbers.card_id_code_problems(found.card_id_code, region_code=found.region_code)
    problems += numbers.card_number_problems(found.card_number)
    if problems:
        raise ValidationFailed(problems, message="省卡管返回的卡号或卡识别码无效")
    now = utcnow()
    return Card(
        id=new_id(),
        person_id=person_id,
        status=found.status,
        kind="new",
        source="province",
        mode="offsite",
        generation=found.generation,
        region_code=found.region_code,
        managing_region_code=found.managing_region_code,
        bank_code=found.bank_code or "unknown",
        card_number=found.card_number,
        card_id_code=found.card_id_code,
        issue_date=found.issue_date,
        expiry_date=found.expiry_date,
        location=HOLDER,
        is_offsite=True,
        pin_failures=0,
        bank_account_active=False,
        transport_enabled=False,
        applied_by=actor.id,
        applied_at=now,
        created_at=now,
        updated_at=now,
    )


def download_offsite(session: Session, *, id_number: str, actor: Actor) -> Card:
    """异地卡信息下载: record here the card another city issued to a person registered here."""
    person = registry_service.get_person(session, id_number=id_number, actor=actor)
    found = _offsite_choice(exchange_peers.province_cards_of(id_number=id_number), _here())
    existing = cards_repository.card_by_number(session, found.card_number)
    if existing is not None:
        if existing.person_id != person.id:
            raise Conflict(f"卡号 {mask_card_number(found.card_number)} 已登记在其他人员名下")
        return existing
    live = cards_service.live_card(session, person_id=person.id)
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
    cards_service.note(session, card=card, action="download", actor=actor, detail=detail)
    return card


def _province_card(session: Session, card_ref: str, actor: Actor) -> Card:
    """A card in the actor's scope, or an off-site card of a person in the actor's scope."""
    try:
        return cards_service.get_card(session, card_ref=card_ref, actor=actor)
    except CardNotFound:
        ref = card_ref.strip().upper()
        card = cards_repository.card_by_number(session, ref) or cards_repository.card_by_id_code(
            session, ref
        )
        if card is None or not card.is_offsite:
            raise
        try:
            registry_service.get_person_in_scope(session, person_id=card.person_id, actor=actor)
        except PersonNotFound:
            raise CardNotFound() from None
        return card


def _notify_province(session: Session, card: Card, kind: str, detail: dict[str, str]) -> None:
    outbox.enqueue(
        session,
        destination=PROVINCE,
        payload={"card_id": card.id, "kind": kind, **detail},
        key=f"province:{kind}:{card.id}:{card.version}",
    )


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
    cards_service.note(
        session,
        card=card,
        action="transfer",
        actor=actor,
        detail={"from": before, "to": to_region_code},
    )
    cards_service.flush(session)
    _notify_province(session, card, "transfer", {"from": before, "to": to_region_code})
    return card


def cancel_in_province(session: Session, *, card_ref: str, reason: str, actor: Actor) -> Card:
    """注销省厅卡信息: cancel the card's provincial record (the local card cancelled first)."""
    card = _province_card(session, card_ref, actor)
    why = province_cancel_refusal(
        status=Status(card.status),
        managing_region=card.managing_region_code,
        here=_here(),
        already=repository.province_cancelled(session, card.id),
    )
    if why:
        raise ProvinceCancelRefused(why)
    cards_service.note(
        session, card=card, action="province_cancel", actor=actor, detail={"reason": reason}
    )
    card.updated_at = utcnow()
    cards_service.flush(session)
    _notify_province(session, card, "cancel", {"reason": reason})
    return card


def refuse_restore_after_province_cancel(session: Session, event: CardStatusChanged) -> None:
    """A cancellation whose provincial record is gone cannot be restored (注销还原)."""
    if event.action == Action.restore and repository.province_cancelled(session, event.card_id):
        raise RestoreRefused("该卡的省级卡信息已注销，不能注销还原")


def person_cards(session: Session, *, id_number: str, actor: Actor) -> PersonCardsOut:
    """A person's local cards and the province's records of their cards (个人卡信息), each
    list only with the cards the actor's scope covers."""
    local = cards_service.cards_of_person(session, id_number=id_number, actor=actor)
    # A clerk may reach a holder of another district through a card at its own counter:
    # the province's records follow the holder's region only.
    holder_checked = cards_service.reads_registry(actor) and cards_service.holder_in_region(
        session, id_number=id_number, actor=actor
    )
    error = None
    try:
        provincial = exchange_peers.province_cards_of(id_number=id_number)
    except exchange_peers.PEER_OUTAGES + exchange_peers.PEER_REFUSALS as exc:
        provincial, error = [], str(exc)
    numbers_here = {c.card_number for c in local}
    return PersonCardsOut(
        local=[cards_service.card_out(session, c) for c in local],
        provincial=[
            ProvinceCardOut(
                card_number=c.card_number,
                card_id_code=c.card_id_code,
                holder_name=mask_name(c.name),
                region_code=c.region_code,
                managing_region_code=c.managing_region_code,
                status=c.status,
                status_name=_status_name(c.status),
                bank_code=c.bank_code,
                generation=c.generation,
                issue_date=c.issue_date,
                expiry_date=c.expiry_date,
                local=c.card_number in numbers_here,
            )
            for c in provincial
            if cards_service.record_in_scope(
                actor,
                bank_code=c.bank_code,
                region_code=c.region_code,
                managing_region_code=c.managing_region_code,
                holder_in_scope=holder_checked,
            )
        ],
        provincial_error=error,
    )


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
        card = cards_repository.card(session, card_id)
        if card is None or card.card_number is None:
            return None
        id_number = registry_service.id_number_of(session, person_id=card.person_id, actor=SYSTEM)
        return _Notice(
            id_number,
            card.card_number,
            card.card_id_code,
            card.region_code,
            card.managing_region_code,
        )


def _send_notice(notice: _Notice, payload: dict[str, Any], key: str) -> None:
    if payload["kind"] == "transfer":
        exchange_peers.province_report_transfer(
            id_number=notice.id_number,
            card_number=notice.card_number,
            card_id_code=notice.card_id_code,
            region_code=notice.region_code,
            from_region_code=str(payload["from"]),
            to_region_code=str(payload["to"]),
            key=key,
        )
    else:
        exchange_peers.province_cancel_record(
            id_number=notice.id_number,
            card_number=notice.card_number,
            card_id_code=notice.card_id_code,
            region_code=notice.region_code,
            managing_region_code=notice.managing_region_code,
            reason=str(payload["reason"]),
            key=key,
        )


def deliver_province(message: outbox.Message) -> None:
    """Outbox handler of ``issuance.province``: transfer and cancel notices."""
    card_id, kind = str(message.payload["card_id"]), str(message.payload["kind"])
    notice = _notice(card_id)
    if notice is None:
        return
    try:
        _send_notice(notice, message.payload, message.key or f"province:{message.id}")
    except exchange_peers.PEER_REFUSALS as exc:
        _province_answer(card_id, "province_refused", {"kind": kind, "reason": str(exc)[:200]})
        raise outbox.PermanentFailure(str(exc)) from exc
    except exchange_peers.PEER_OUTAGES as exc:
        if message.attempt >= message.max_attempts:
            detail = {"kind": kind, "reason": str(exc)[:200]}
            _province_answer(card_id, "province_refused", detail)
        raise
    _province_answer(card_id, "province_informed", {"kind": kind})


def _province_answer(card_id: str, action: str, detail: dict[str, str]) -> None:
    with db.transaction() as session:
        card = cards_repository.card(session, card_id)
        if card is not None:
            cards_service.note(session, card=card, action=action, actor=SYSTEM, detail=detail)
