"""Handover (卡片交接): moves of cards and boxes, the places cards go to, scanning."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType, region_covers
from sscard.issuance.cards import repository, service
from sscard.issuance.cards.errors import BoxNotFound, CardNotFound
from sscard.issuance.cards.models import Box, Card, Handover
from sscard.issuance.cards.schemas import HandoverIn, HandoverOut
from sscard.issuance.lifecycle import Action, Status
from sscard.kit.context import SYSTEM, Actor

HOLDER = service.HOLDER


UNRECORDED = ""
"""The from-place of a move of a card whose place was never recorded."""


UNRECORDED_NAME = "未登记地点"


DISTRIBUTION_TYPES = {InstitutionType.service_hall.value, InstitutionType.bank.value}


HANDOVER_TYPES = DISTRIBUTION_TYPES | {
    InstitutionType.hrss_bureau.value,
    InstitutionType.card_vendor.value,
}


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
    detail = {
        "from": card.location,
        "to": data.to_place,
        "handler": data.handler,
        "receiver": data.receiver,
    }
    card.location = data.to_place
    if action is not None:
        service.transition(session, card=card, action=action, actor=actor, detail=detail)
    else:
        service.note(session, card=card, action="handover", actor=actor, detail=detail)


def handover(session: Session, *, data: HandoverIn, actor: Actor) -> Handover:
    """Record a move of one card or a whole box (卡片交接) and where each card is now."""
    if (data.card_number is None) == (data.box_code is None):
        raise ValidationFailed([FieldProblem("card_number", "请填写卡号或卡盒号（二选一）")])
    if data.to_place != HOLDER:
        iam_service.get_institution(session, code=data.to_place)
    if data.box_code is not None:
        box = _box_in_reach(session, data.box_code, actor)
        cards, from_place = repository.cards_in_box(session, box.code), box.location
        box.location, box.updated_at = data.to_place, utcnow()
    else:
        card = service.get_card_at_counter(session, card_ref=data.card_number or "", actor=actor)
        cards, from_place = [card], card.location or UNRECORDED
    for card in cards:
        _move(session, card, data, actor)
    record = Handover(
        card_id=cards[0].id if data.card_number else None,
        box_code=data.box_code,
        from_place=from_place,
        to_place=data.to_place,
        handler=data.handler,
        receiver=data.receiver,
        note=data.note,
        handed_at=utcnow(),
        recorded_by=actor.id,
    )
    session.add(record)
    service.flush(session)
    return record


def place_name(names: dict[str, str], code: str | None) -> str:
    """What a clerk reads for a place code: the institution's name, 持卡人, 未登记地点 for a
    place never recorded ("unknown" in older records), else the code itself."""
    if not code or code == "unknown":
        return UNRECORDED_NAME
    return names.get(code, code)


def handover_out(
    session: Session, record: Handover, names: dict[str, str] | None = None
) -> HandoverOut:
    """A move as shown, its places by name (``names`` from :func:`place_names`)."""
    card = repository.card(session, record.card_id) if record.card_id else None
    names = names if names is not None else place_names(session)
    return HandoverOut(
        id=record.id,
        card_number=card.card_number if card else None,
        box_code=record.box_code,
        from_place=record.from_place,
        from_place_name=place_name(names, record.from_place),
        to_place=record.to_place,
        to_place_name=place_name(names, record.to_place),
        handler=record.handler,
        receiver=record.receiver,
        note=record.note,
        handed_at=record.handed_at,
    )


def handovers(session: Session, *, card: Card) -> list[HandoverOut]:
    """Every move of the card, including moves of its box."""
    names = place_names(session)
    return [handover_out(session, h, names) for h in repository.handovers_of(session, card)]


def _box_in_reach(session: Session, box_code: str, actor: Actor) -> Box:
    """A box the actor may move: every card in it within the actor's counter scope. A box
    out of reach answers as one that does not exist (no hint that it does)."""
    box = repository.box(session, box_code)
    if box is None or not all(
        service.counter_in_scope(session, actor, c)
        for c in repository.cards_in_box(session, box.code)
    ):
        raise BoxNotFound(f"卡盒 {box_code} 不存在")
    return box


def box_contents(session: Session, *, box_code: str, actor: Actor) -> list[Card]:
    """The cards packed in a box that the actor may see, by position; a box with none of
    them answers as one that does not exist."""
    box = repository.box(session, box_code)
    inside = repository.cards_in_box(session, box_code) if box is not None else []
    shown = [c for c in inside if service.counter_in_scope(session, actor, c)]
    if box is None or (inside and not shown):
        raise BoxNotFound(f"卡盒 {box_code} 不存在")
    return shown


@dataclass(frozen=True, slots=True)
class Place:
    """An institution a card can be chosen at or moved to, as forms list it."""

    code: str
    name: str
    kind: str
    kind_name: str


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
            found.append(
                Place(code=out.code, name=out.name, kind=out.type, kind_name=out.type_name)
            )
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


@dataclass(frozen=True, slots=True)
class Scanned:
    """What a scanned code names: a whole box (its cards by position) or one card."""

    box_code: str | None
    box_location: str | None
    cards: list[Card]


def scan(session: Session, *, code: str, actor: Actor) -> Scanned:
    """A box by its code (only the cards in the actor's scope shown), else a card by number
    or identification code (handover scanning)."""
    text = code.strip()
    if not text:
        raise ValidationFailed([FieldProblem("code", "请扫描或输入卡盒号或卡号")])
    for candidate in dict.fromkeys((text, text.upper())):
        box = repository.box(session, candidate)
        if box is not None:
            inside = repository.cards_in_box(session, box.code)
            shown = [c for c in inside if service.counter_in_scope(session, actor, c)]
            return Scanned(box.code, box.location, shown)
    try:
        card = service.get_card_at_counter(session, card_ref=text, actor=actor)
    except CardNotFound as exc:
        missing = CardNotFound(f"未找到卡盒或卡片 {text[:32]}")
        missing.fields = [FieldProblem("code", "未找到该卡盒或卡片，请核对后重新扫描")]
        raise missing from exc
    return Scanned(None, None, [card])
