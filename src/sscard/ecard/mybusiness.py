"""My card business online (线上办理) beyond the temporary loss: formal loss (正式挂失),
whether the card is enabled (启用) with its financial side, and an instant replacement card
at the bank branch I choose (即时制卡网点申请).

Only the resident's own live card is touched, found by the session's person. A formal loss
cannot be undone online (解挂 and 补换卡 need a service hall or a bank branch), so it asks for
the e-card PIN again as well as a confirmation. After a formal loss the holder may apply
online for an instant replacement at a cooperating bank: the old card is cancelled as with
every replacement (its e-card is revoked with it) and the new card waits, ``applied`` in
``instant`` mode, for the chosen bank's branch, which opens the account, prints the card on
the spot and activates it (``issuance.instant``). Every change is on the card's timeline
with the resident as actor and in the audit chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from sscard.ecard import mycard, records
from sscard.ecard import service as ecard_service
from sscard.ecard.errors import InstantCardNotAllowed, NoLiveCard
from sscard.ecard.schemas import EnablingOut, EnablingStepOut, MyCardOut, StepOut
from sscard.errors import FieldProblem, NotFound, ValidationFailed
from sscard.exchange.peers import service as exchange_peers
from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType
from sscard.issuance.activation import service as activation_service
from sscard.issuance.cards import application_service
from sscard.issuance.cards import service as issuance_service
from sscard.issuance.cards.schemas import ReplacementIn
from sscard.kit import access
from sscard.kit.context import SYSTEM, Actor

HELD = ("issued", "active", "temporarily_lost", "lost")
"""A card in the holder's hands (or lost from them): its enabling can be shown."""


@dataclass(frozen=True, slots=True)
class Branch:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Enabling:
    """Whether my card is enabled (启用) and its financial side (银行账户) active."""

    status_name: str
    steps: list[tuple[str, str]]
    bank_name: str
    bank_active: bool
    bank_message: str


def _pin_checked(session: Session, actor: Actor, pin: str) -> None:
    if not pin:
        reason = "请输入电子社保卡密码"
        raise ValidationFailed([FieldProblem("ecard_pin", reason)], reason)
    ecard = ecard_service.get_ecard_of_person(session, person_id=actor.id)
    ecard_service.verify_ecard_pin(session, ecard=ecard, pin=pin)


def _confirmed(confirmed: bool, what: str) -> None:
    if not confirmed:
        reason = f"请勾选“{what}”"
        raise ValidationFailed([FieldProblem("confirm", reason)], reason)


def report_formal_loss(session: Session, *, actor: Actor, pin: str, confirmed: bool) -> None:
    """正式挂失 of my own card, confirmed and with the e-card PIN checked again (the e-card
    follows)."""
    _confirmed(confirmed, "我确认正式挂失")
    _pin_checked(session, actor, pin)
    card = issuance_service.live_card(session, person_id=actor.id)
    if card is None:
        raise NoLiveCard()
    issuance_service.report_loss(
        session, card_ref=card.id, temporary=False, actor=actor, note_text="电子社保卡线上正式挂失"
    )
    records.record(session, "ecard.card.formal_loss", actor.id, {"card_id": card.id})


def _bank_message(bank_name: str, *, active: bool, account: bool, configured: bool) -> str:
    if active:
        return f"金融功能已激活（{bank_name}银行账户可以使用）。"
    if not account:
        return "这张卡没有关联银行账户，金融功能不可用。"
    if not configured:
        return (
            f"金融功能尚未激活：本平台没有配置{bank_name}的接口地址，启用时跳过了银行账户激活。"
            f"请携带社会保障卡和居民身份证到{bank_name}任一网点激活金融功能。"
        )
    return f"金融功能尚未激活：启用社会保障卡时将一并激活{bank_name}银行账户。"


def my_enabling(session: Session, *, person_id: str) -> Enabling | None:
    """My card's enabling and its financial side (None before the card reaches me)."""
    with access.suppress_reads(session):  # my own card: nobody else read my data
        card = issuance_service.live_card(session, person_id=person_id)
        if card is None or card.status not in HELD:
            return None
        progress = activation_service.activation_out(session, card)
    bank_name = iam_service.get_institution(session, code=card.bank_code).name
    message = _bank_message(
        bank_name,
        active=card.bank_account_active,
        account=card.bank_account_enc is not None,
        configured=exchange_peers.bank_configured(bank_code=card.bank_code),
    )
    status_name = "已启用" if card.status != "issued" else progress.status_name
    return Enabling(
        status_name=status_name,
        steps=[(s.name, s.status_name) for s in progress.steps],
        bank_name=bank_name,
        bank_active=card.bank_account_active,
        bank_message=message,
    )


def instant_branches(session: Session) -> list[Branch]:
    """The cooperating banks whose branches make instant cards (合作银行网点)."""
    found = iam_service.list_institutions(session, actor=SYSTEM)
    return [
        Branch(i.code, i.name)
        for i in found
        if i.type == InstitutionType.bank and i.status == "active"
    ]


def _chosen(session: Session, bank_code: str) -> Branch:
    for branch in instant_branches(session):
        if branch.code == bank_code:
            return branch
    reason = "请选择可以即时制卡的银行网点"
    raise ValidationFailed([FieldProblem("bank_code", reason)], reason)


def apply_instant(session: Session, *, actor: Actor, bank_code: str, confirmed: bool) -> None:
    """Apply for an instant replacement of my formally lost card at ``bank_code``'s branches,
    confirmed (the old card is cancelled)."""
    branch = _chosen(session, bank_code)
    _confirmed(confirmed, "我已知晓原卡将注销")
    card = issuance_service.live_card(session, person_id=actor.id)
    if card is None or card.status != "lost":
        raise InstantCardNotAllowed(
            "正式挂失后才能在线申请即时制卡补卡；卡片损坏或到期换卡请到社保服务窗口或银行网点办理"
        )
    data = ReplacementIn(reason="lost", mode="instant", bank_code=branch.code)
    try:
        application_service.replace_online(session, card_ref=card.id, data=data, actor=actor)
    except NotFound as exc:
        raise ValidationFailed([FieldProblem("bank_code", "该银行暂不能办理")]) from exc
    records.record(session, "ecard.card.instant_apply", actor.id, {"bank_code": branch.code})


def my_card_out(session: Session, *, person_id: str) -> MyCardOut:
    """My live card with its progress, enabling and what I may do online, or NoLiveCard."""
    card = mycard.my_card(session, person_id=person_id)
    if card is None:
        raise NoLiveCard()
    enabling = my_enabling(session, person_id=person_id)
    return MyCardOut(
        status=card.status,
        status_name=card.status_name,
        card_number=card.card_number,
        mode=card.mode,
        kind=card.kind,
        bank_code=card.bank_code,
        batch_no=card.batch_no,
        pickup_place=card.pickup_place,
        expiry_date=card.expiry_date,
        lost_at=card.lost_at,
        steps=[StepOut(name=s.name, done=s.done, current=s.current) for s in card.steps],
        enabling=None
        if enabling is None
        else EnablingOut(
            status_name=enabling.status_name,
            steps=[EnablingStepOut(name=n, status_name=s) for n, s in enabling.steps],
            bank_name=enabling.bank_name,
            bank_active=enabling.bank_active,
            bank_message=enabling.bank_message,
        ),
        can_report_loss=card.can_report_loss,
        can_report_formal_loss=card.can_report_formal_loss,
        can_apply_instant=card.can_apply_instant,
    )
