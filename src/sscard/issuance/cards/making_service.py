"""Making results (used by batch and instant making): what was personalised, stored."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from sscard.crypto import fields
from sscard.errors import FieldProblem, ValidationFailed
from sscard.issuance import numbers
from sscard.issuance.cards import service
from sscard.issuance.cards.models import CARD_TABLE, Card
from sscard.issuance.lifecycle import Action
from sscard.kit.context import Actor
from sscard.kit.masking import mask_bank_account
from sscard.settings import get_settings


@dataclass(frozen=True, slots=True)
class MadeCard:
    """What a vendor or a bank branch reports for a card it personalised."""

    card_id_code: str
    atr: str
    bank_account: str
    issue_date: date
    expiry_date: date | None = None
    box_code: str | None = None
    box_position: int | None = None


def made_problems(card: Card, made: MadeCard) -> list[FieldProblem]:
    """What is wrong with a making result for ``card``."""
    found = numbers.card_id_code_problems(made.card_id_code, region_code=card.region_code)
    if not re.fullmatch(r"[0-9A-F]{8,64}", made.atr):
        found.append(FieldProblem("atr", "ATR 应为 8-64 位十六进制"))
    if not re.fullmatch(r"\d{12,19}", made.bank_account):
        found.append(FieldProblem("bank_account", "银行卡号应为 12-19 位数字"))
    return found


def record_made(
    session: Session, *, card: Card, made: MadeCard, actor: Actor, instant: bool = False
) -> Card:
    """Store what was personalised and move the card to ``made``."""
    found = made_problems(card, made)
    if found:
        raise ValidationFailed(found)
    years = get_settings().card_validity_years
    card.card_id_code, card.atr = made.card_id_code, made.atr
    card.bank_account_enc = fields.encrypt_field(
        made.bank_account,
        table=CARD_TABLE,
        column="bank_account_enc",
        row_id=card.id,
        session=session,
    )
    card.bank_account_masked = mask_bank_account(made.bank_account)
    card.issue_date = made.issue_date
    card.expiry_date = made.expiry_date or made.issue_date.replace(
        year=made.issue_date.year + years
    )
    card.box_code, card.box_position = made.box_code, made.box_position
    action = Action.make_instant if instant else Action.made
    return service.transition(
        session, card=card, action=action, actor=actor, detail={"card_id_code": made.card_id_code}
    )


def record_made_many(
    session: Session, *, made: Sequence[tuple[Card, MadeCard]], actor: Actor
) -> None:
    """:func:`record_made` for many cards of a batch result, with one flush."""
    years = get_settings().card_validity_years
    for card, result in made:
        found = made_problems(card, result)
        if found:
            raise ValidationFailed(found)
        card.card_id_code, card.atr = result.card_id_code, result.atr
        card.bank_account_enc = fields.encrypt_field(
            result.bank_account,
            table=CARD_TABLE,
            column="bank_account_enc",
            row_id=card.id,
            session=session,
        )
        card.bank_account_masked = mask_bank_account(result.bank_account)
        card.issue_date = result.issue_date
        card.expiry_date = result.expiry_date or result.issue_date.replace(
            year=result.issue_date.year + years
        )
        card.box_code, card.box_position = result.box_code, result.box_position
    service.transition_many(
        session,
        moves=[(card, {"card_id_code": r.card_id_code}) for card, r in made],
        action=Action.made,
        actor=actor,
    )


def bank_account(session: Session, *, card: Card) -> str | None:
    """The card's bank account number in clear (for the bank adapters only)."""
    if card.bank_account_enc is None:
        return None
    return fields.decrypt_field(
        card.bank_account_enc,
        table=CARD_TABLE,
        column="bank_account_enc",
        row_id=card.id,
        session=session,
    )
