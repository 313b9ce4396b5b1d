"""My card online (线上办理) with the e-card session: the card's status and how far its
making has come, a temporary loss (临时挂失) and its unlock (解除临时挂失).

Only the resident's own live card is ever touched (found by the session's person, never by
a number typed in). Reporting a loss needs the session only: a stolen phone must not stop
the holder from protecting the card, and a temporary loss lapses by itself. Unlocking asks
for the e-card PIN again (wrong PINs count), so someone holding an unlocked phone cannot
undo the holder's loss report. The card service records each change on the card's timeline
with the resident as actor, and the e-card follows the card (suspended, then active again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from sscard.ecard import service as ecard_service
from sscard.ecard.errors import NoLiveCard
from sscard.errors import FieldProblem, ValidationFailed
from sscard.issuance.cards import service as issuance_service
from sscard.kit import access
from sscard.kit.context import Actor
from sscard.kit.masking import mask_card_number

PROGRESS = (
    ("applied", "已申请"),
    ("submitted", "已报送省卡管"),
    ("making", "制卡中"),
    ("made", "已制卡"),
    ("in_transit", "运送中"),
    ("at_distribution_point", "待领取"),
    ("issued", "已领卡"),
    ("active", "已启用"),
)
"""The steps a card made in a batch goes through, as the resident reads them."""
INSTANT_PROGRESS = (
    ("applied", "已申请，待到网点制卡"),
    ("issued", "网点已制卡发放"),
    ("active", "已启用"),
)
"""The steps of a card made on the spot at a bank branch (即时制卡)."""
IN_USE = ("active", "temporarily_lost", "lost")


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    done: bool
    current: bool


@dataclass(frozen=True, slots=True)
class MyCard:
    status: str
    status_name: str
    card_number: str
    pickup_place: str | None
    expiry_date: date | None
    lost_at: datetime | None
    lapse_days: int
    steps: list[Step]
    mode: str = "batch"
    kind: str = "new"
    bank_code: str = ""
    batch_no: str | None = None

    @property
    def can_report_loss(self) -> bool:
        return self.status == "active"

    @property
    def can_report_formal_loss(self) -> bool:
        return self.status in ("active", "temporarily_lost")

    @property
    def can_apply_instant(self) -> bool:
        return self.status == "lost"

    @property
    def can_unlock(self) -> bool:
        return self.status == "temporarily_lost"


def _steps(status: str, mode: str = "batch") -> list[Step]:
    progress = INSTANT_PROGRESS if mode == "instant" else PROGRESS
    codes = [code for code, _ in progress]
    at = (
        codes.index("active")
        if status in IN_USE
        else codes.index(status)
        if status in codes
        else -1
    )
    return [Step(name, i <= at, i == at) for i, (_, name) in enumerate(progress)]


def my_card(session: Session, *, person_id: str) -> MyCard | None:
    """My live card as the wallet shows it (None when I have none)."""
    with access.suppress_reads(session):  # my own card: nobody else read my data
        card = issuance_service.live_card(session, person_id=person_id)
        if card is None:
            return None
        out = issuance_service.card_out(session, card)
    return MyCard(
        status=out.status.code,
        status_name=out.status.name,
        card_number=mask_card_number(out.card_number) if out.card_number else "",
        pickup_place=out.pickup_place,
        expiry_date=out.expiry_date,
        lost_at=card.lost_at,
        lapse_days=issuance_service.policy().temporary_loss_days,
        steps=_steps(out.status.code, out.mode),
        mode=out.mode,
        kind=out.kind,
        bank_code=out.bank_code,
        batch_no=out.batch_no,
    )


def _live_card_id(session: Session, person_id: str) -> str:
    card = issuance_service.live_card(session, person_id=person_id)
    if card is None:
        raise NoLiveCard()
    return card.id


def report_temporary_loss(session: Session, *, actor: Actor) -> None:
    """临时挂失 of my own card (the e-card is suspended with it)."""
    card_id = _live_card_id(session, actor.id)
    issuance_service.report_loss(
        session, card_ref=card_id, temporary=True, actor=actor, note_text="电子社保卡线上临时挂失"
    )


def unlock_temporary_loss(session: Session, *, actor: Actor, pin: str) -> None:
    """解除临时挂失 of my own card after the e-card PIN is checked again."""
    if not pin:
        reason = "请输入电子社保卡密码"
        raise ValidationFailed([FieldProblem("ecard_pin", reason)], reason)
    ecard = ecard_service.get_ecard_of_person(session, person_id=actor.id)
    ecard_service.verify_ecard_pin(session, ecard=ecard, pin=pin)
    card_id = _live_card_id(session, actor.id)
    issuance_service.unlock(
        session,
        card_ref=card_id,
        actor=actor,
        temporary=True,
        note_text="电子社保卡线上解除临时挂失",
    )
