"""Card applications (制卡申请) and replacements (补换卡)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sscard.db import new_id, utcnow
from sscard.errors import FieldProblem
from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType, region_covers
from sscard.issuance import lifecycle
from sscard.issuance.cards import repository, service
from sscard.issuance.cards.errors import ActiveCardExists, ApplicationRefused, TransitionNotAllowed
from sscard.issuance.cards.models import Card
from sscard.issuance.cards.schemas import ApplicationIn, ReplacementIn
from sscard.issuance.lifecycle import Action, Status
from sscard.kit.context import Actor
from sscard.registry.persons import service as registry_service
from sscard.registry.photos import service as registry_photos
from sscard.settings import get_settings


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
        id=new_id(),
        person_id=person_id,
        status=Status.applied.value,
        kind=kind,
        reason=reason,
        source=source,
        mode=mode,
        generation=generation,
        region_code=region,
        managing_region_code=region,
        bank_code=bank_code,
        pickup_place=pickup_place,
        applied_by=actor.id,
        applied_at=now,
        created_at=now,
        updated_at=now,
        pin_failures=0,
        is_offsite=False,
        bank_account_active=False,
        transport_enabled=False,
    )
    session.add(card)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise ActiveCardExists("申请人已有一张有效的社会保障卡，请办理补换卡") from exc
    service.record_event(session, card, "apply", None, actor, {"source": source, "mode": mode})
    return card


def apply(session: Session, *, data: ApplicationIn, actor: Actor) -> Card:
    """A card application (制卡申请): applicant registered, alive, with a photo, no live card."""
    person_id = _applicant(session, data, actor)
    if data.pickup_place:
        iam_service.get_institution(session, code=data.pickup_place)
    return new_card(
        session,
        person_id=person_id,
        kind="new",
        source=data.source,
        mode=data.mode,
        bank_code=data.bank_code,
        generation=data.generation,
        pickup_place=data.pickup_place,
        actor=actor,
    )


def replace(session: Session, *, card_ref: str, data: ReplacementIn, actor: Actor) -> Card:
    """Replacement (补换卡): the old card is cancelled and the new one applied, together."""
    old = service.get_card(session, card_ref=card_ref, actor=actor)
    if old.status not in {
        s.value for s in (Status.active, Status.temporarily_lost, Status.lost, Status.issued)
    }:
        raise TransitionNotAllowed(
            f"卡片当前状态为“{lifecycle.STATUS_NAMES[Status(old.status)]}”，不能补换"
        )
    old.cancel_reason = f"补换卡（{data.reason}）"
    service.transition(
        session, card=old, action=Action.cancel, actor=actor, detail={"reason": "replacement"}
    )
    bank = data.bank_code or old.bank_code
    new = new_card(
        session,
        person_id=old.person_id,
        kind="replacement",
        source="counter",
        mode=data.mode,
        bank_code=bank,
        generation=3,
        pickup_place=data.pickup_place or old.pickup_place,
        actor=actor,
        reason=data.reason,
    )
    new.replaces_card_id, old.replaced_by_card_id = old.id, new.id
    service.flush(session)
    return new


def replace_online(session: Session, *, card_ref: str, data: ReplacementIn, actor: Actor) -> Card:
    """A replacement the holder applies for online (线上补换卡): :func:`replace`, source online."""
    card = replace(session, card_ref=card_ref, data=data, actor=actor)
    card.source = "online"
    service.flush(session)
    return card
