"""Card number ranges and number allocation (开户放号)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.issuance import numbers
from sscard.issuance.cards import repository, service
from sscard.issuance.cards.errors import NumbersExhausted
from sscard.issuance.cards.models import Card, NumberRange
from sscard.issuance.cards.schemas import RangeIn, RangeOut
from sscard.kit.context import Actor


def add_range(session: Session, *, data: RangeIn) -> NumberRange:
    """Add a block of card numbers for a region (never overlapping another block)."""
    if data.end < data.start:
        raise ValidationFailed([FieldProblem("end", "结束号不能小于起始号")])
    width = numbers.CARD_NUMBER_LENGTH - len(data.prefix)
    if len(str(data.end)) > width:
        reason = f"号段超出卡号位数：前缀 {data.prefix} 之后最多 {width} 位数字"
        raise ValidationFailed([FieldProblem("end", reason)])
    if repository.overlapping_range(session, data.prefix, data.start, data.end):
        raise ValidationFailed([FieldProblem("start", "与已有号段重叠")])
    block = NumberRange(
        region_code=data.region_code,
        prefix=data.prefix,
        next_value=data.start,
        last_value=data.end,
        status="active",
        created_at=utcnow(),
    )
    session.add(block)
    session.flush()
    return block


def range_out(block: NumberRange) -> RangeOut:
    return RangeOut(
        id=block.id,
        region_code=block.region_code,
        prefix=block.prefix,
        next_value=block.next_value,
        last_value=block.last_value,
        remaining=max(0, block.last_value - block.next_value + 1),
        status=block.status,
    )


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
        service.note(
            session,
            card=card,
            action="assign_number",
            actor=actor,
            detail={"card_number": card.card_number},
        )
    return card


def lock_ranges(session: Session, *, region_code: str) -> None:
    """Row-lock the region's number ranges first, so that every opening locks in one order
    (numbers, then the audit chain)."""
    repository.ranges_for_update(session, region_code)
