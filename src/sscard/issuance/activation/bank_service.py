"""The card's bank: changing the service bank (换绑服务银行), the account's balance and
transactions.

Allowed for a 3rd-generation card that is ``issued`` or ``active``, managed by this city,
with no activation or earlier bank change under way (:func:`bank_change_refusal`). A
2nd-generation card carries its bank account number on the chip and the card face: a new
bank means a new card (补换卡). The card's ``bank_code`` changes at once and its old account
is forgotten; the old bank is told to unbind (``issuance.bank_change``, ``unbind``) and the
new bank to bind (``bind``), which answers the new account number, stored encrypted. While
the card is active the new account is activated by the bind itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from sscard import db
from sscard.crypto import fields
from sscard.db import utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.exchange.peers import service as exchange_peers
from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType, region_covers
from sscard.issuance.activation import repository
from sscard.issuance.activation.errors import BankChangeRefused, NoBankAccount
from sscard.issuance.activation.saga import bank_change_refusal, overall
from sscard.issuance.activation.schemas import BalanceOut, BankTransactionOut
from sscard.issuance.cards import making_service
from sscard.issuance.cards import service as cards_service
from sscard.issuance.cards.models import CARD_TABLE, Card
from sscard.issuance.lifecycle import STATUS_NAMES, Status
from sscard.kit import access, outbox
from sscard.kit.access import AccessRecord
from sscard.kit.context import SYSTEM, Actor
from sscard.kit.masking import mask_bank_account, mask_card_number
from sscard.settings import get_settings

BANK_CHANGE = "issuance.bank_change"


def _new_bank(session: Session, card: Card, bank_code: str) -> None:
    bank = iam_service.get_institution(session, code=bank_code)
    if bank.type != InstitutionType.bank or bank.status != "active":
        raise ValidationFailed([FieldProblem("bank_code", f"{bank_code} 不是合作银行")])
    if not region_covers(bank.region_code, card.managing_region_code):
        raise ValidationFailed([FieldProblem("bank_code", f"{bank.name} 不服务该卡的管理地市")])


def change_bank(
    session: Session, *, card_ref: str, bank_code: str, actor: Actor, note: str = ""
) -> Card:
    """Change the card's service bank (换绑服务银行) without re-making the card."""
    card = cards_service.get_card(session, card_ref=card_ref, actor=actor)
    why = bank_change_refusal(
        generation=card.generation,
        status=Status(card.status),
        managed_here=card.managing_region_code == get_settings().region_code,
        same_bank=card.bank_code == bank_code,
        activation_running=overall(
            {s: r.status for s, r in repository.steps(session, card.id).items()}
        )
        in ("pending", "compensating"),
        change_running=repository.bank_change_running(session, card.id),
    )
    if why:
        raise BankChangeRefused(why)
    _new_bank(session, card, bank_code)
    old = card.bank_code
    card.bank_code, card.bank_account_enc, card.bank_account_masked = bank_code, None, None
    card.bank_account_active, card.updated_at = False, utcnow()
    cards_service.note(
        session,
        card=card,
        action="bank_change",
        actor=actor,
        detail={"from": old, "to": bank_code, "note": note},
    )
    cards_service.flush(session)
    for op, code in (("unbind", old), ("bind", bank_code)):
        outbox.enqueue(
            session,
            destination=BANK_CHANGE,
            payload={"card_id": card.id, "op": op, "bank_code": code, "change": card.version},
            key=f"bank-change:{card.id}:{card.version}:{op}",
        )
    return card


def _bank_change_call(card_id: str, op: str, bank_code: str) -> tuple[str, bool] | None:
    with db.transaction() as session:
        card = repository.card(session, card_id)
        if card is None or card.card_number is None:
            return None
        if op == "bind" and card.bank_code != bank_code:
            return None
        return card.card_number, card.status == Status.active


def deliver_bank_change(message: outbox.Message) -> None:
    """Outbox handler of ``issuance.bank_change``: unbind at the old bank, bind at the new."""
    card_id, op = str(message.payload["card_id"]), str(message.payload["op"])
    bank_code = str(message.payload["bank_code"])
    found = _bank_change_call(card_id, op, bank_code)
    if found is None:
        return
    card_number, active = found
    key = message.key or f"bank-change:{message.id}"
    try:
        if op == "bind":
            account: str | None = exchange_peers.bank_bind_card(
                bank_code=bank_code, card_number=card_number, activate=active, key=key
            )
        else:
            exchange_peers.bank_unbind_card(bank_code=bank_code, card_number=card_number, key=key)
            account = None
    except exchange_peers.PEER_REFUSALS as exc:
        _bank_change_failed(card_id, op, bank_code, str(exc))
        raise outbox.PermanentFailure(str(exc)) from exc
    except exchange_peers.PEER_OUTAGES as exc:
        if message.attempt >= message.max_attempts:
            _bank_change_failed(card_id, op, bank_code, str(exc))
        raise
    _bank_changed(card_id, op, bank_code, account, active)


def _bank_changed(card_id: str, op: str, bank_code: str, account: str | None, active: bool) -> None:
    with db.transaction() as session:
        card = repository.locked_card(session, card_id)
        if card is None:
            return
        if op == "unbind" or account is None:
            cards_service.note(
                session,
                card=card,
                action="bank_unbound",
                actor=SYSTEM,
                detail={"bank_code": bank_code},
            )
            return
        if card.bank_code != bank_code:
            return
        card.bank_account_enc = fields.encrypt_field(
            account, table=CARD_TABLE, column="bank_account_enc", row_id=card.id, session=session
        )
        card.bank_account_masked = mask_bank_account(account)
        card.bank_account_active, card.updated_at = active, utcnow()
        detail = {"bank_code": bank_code, "bank_account": card.bank_account_masked}
        cards_service.note(session, card=card, action="bank_bound", actor=SYSTEM, detail=detail)
        cards_service.flush(session)


def _bank_change_failed(card_id: str, op: str, bank_code: str, reason: str) -> None:
    with db.transaction() as session:
        card = repository.locked_card(session, card_id)
        if card is not None:
            detail = {"op": op, "bank_code": bank_code, "reason": reason[:200]}
            cards_service.note(
                session, card=card, action="bank_change_failed", actor=SYSTEM, detail=detail
            )


def _account(session: Session, card: Card, action: str) -> tuple[str, str]:
    account = making_service.bank_account(session, card=card)
    if account is None or card.card_number is None:
        raise NoBankAccount()
    access.record(
        session,
        AccessRecord(
            action=action,
            subject_type="card",
            subject_id=card.id,
            subject_display=mask_card_number(card.card_number),
            fields=("bank_account",),
        ),
    )
    return card.card_number, account


def bank_balance(session: Session, *, card_ref: str, actor: Actor) -> BalanceOut:
    """The balance of the card's account, asked of its bank (audited)."""
    card = cards_service.get_card(session, card_ref=card_ref, actor=actor)
    card_number, account = _account(session, card, "card.bank.balance")
    found = exchange_peers.bank_balance(
        bank_code=card.bank_code, card_number=card_number, account=account
    )
    return BalanceOut(
        card_number=card_number,
        bank_code=card.bank_code,
        bank_account=card.bank_account_masked or mask_bank_account(account),
        balance_fen=found.balance_fen,
        available_fen=found.available_fen,
        currency=found.currency,
        as_of=found.as_of,
    )


def bank_transactions(
    session: Session,
    *,
    card_ref: str,
    actor: Actor,
    start: date | None = None,
    end: date | None = None,
    limit: int = 50,
) -> list[BankTransactionOut]:
    """The card account's transactions, newest first, asked of its bank (audited)."""
    if start and end and end < start:
        raise ValidationFailed([FieldProblem("end_date", "结束日期不能早于开始日期")])
    card = cards_service.get_card(session, card_ref=card_ref, actor=actor)
    card_number, account = _account(session, card, "card.bank.transactions")
    items = exchange_peers.bank_transactions(
        bank_code=card.bank_code,
        card_number=card_number,
        account=account,
        start=start,
        end=end,
        limit=limit,
    )
    return [
        BankTransactionOut(
            occurred_at=t.occurred_at,
            amount_fen=t.amount_fen,
            balance_fen=t.balance_fen,
            kind=t.kind,
            description=t.description,
        )
        for t in items
    ]


@dataclass(frozen=True, slots=True)
class PaymentCard:
    """What a payment needs of a card: who holds it, its bank and account, whether it may pay."""

    card_id: str
    person_id: str
    card_number: str
    bank_code: str
    account: str | None
    """The bank account number in clear (for the bank call only, never shown)."""
    refusal: str | None
    """Why the card cannot pay now (Chinese), None when it can."""


def _payment_refusal(card: Card, account: str | None) -> str | None:
    status = Status(card.status)
    if status in (Status.temporarily_lost, Status.lost):
        return "该卡已挂失，不能支付"
    if status is Status.cancelled:
        return "该卡已注销，不能支付"
    if status is not Status.active:
        return f"该卡当前状态为“{STATUS_NAMES[status]}”，尚未启用，不能支付"
    if cards_service.expired(card):
        return "该卡已超过有效期，不能支付"
    if account is None or not card.bank_account_active:
        return "该卡的银行账户未启用，不能支付"
    return None


def payment_card(session: Session, *, card_id: str) -> PaymentCard:
    """The card as a payment sees it (for the payments component; CardNotFound if unknown)."""
    card = cards_service.card_by_id(session, card_id=card_id)
    account = making_service.bank_account(session, card=card)
    return PaymentCard(
        card_id=card.id,
        person_id=card.person_id,
        card_number=card.card_number or "",
        bank_code=card.bank_code,
        account=account,
        refusal=_payment_refusal(card, account),
    )


def card_id_of_number(session: Session, *, card_number: str) -> str | None:
    """The id of the card with this number (for the payments component), or None."""
    card = cards_service.card_by_number(session, card_number=card_number)
    return card.id if card is not None else None
