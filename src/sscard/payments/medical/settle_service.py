"""Settling a bill (就医结算) and refunding it (退费).

Design overview
---------------
A peer call never sits inside an open transaction, so a settlement takes three:

1. *intent*: the hospital or pharmacy (a merchant of the operator's region, active, with a
   medical MCC), the card (from a scanned e-card code, verified once at the ``hospital``
   scenario, or from its number; it must be active), the holder; a ``pending`` row with a
   new number ``M`` + Beijing date + 11 digits is committed;
2. the medical system settles the bill under that number (idempotent there) and answers
   with the pool / personal / cash split; then *hold*: the split is stored, the ledger's
   personal account is funded to the system's balance, the pool and personal legs are held
   (:mod:`.posting`), status ``paying``;
3. the bank debits the cash part from the card's account (reference: the number); *outcome*:
   on yes every leg is posted, linked (``settled``); on no the holds are voided and the
   medical system's settlement is cancelled (``failed``): nothing is posted. A bank that does
   not answer leaves the settlement ``paying`` until :func:`resolve_paying` learns the outcome.

A refund credits the cash back at the bank (reference ``<number>R1``, a new one after each
refusal), cancels the settlement at the medical system, then reverses every posted leg
(``refunded``). A refused credit changes nothing anywhere; each step is idempotent at its
party, so a refund that failed half-way can simply be asked again.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from sscard import db
from sscard.db import utcnow
from sscard.ecard.codes import service as ecard_codes
from sscard.errors import FieldProblem, SSCardError, ValidationFailed
from sscard.exchange.peers import service as peers_service
from sscard.issuance.cards import making_service
from sscard.issuance.cards import service as issuance_service
from sscard.kit.context import Actor, ActorKind
from sscard.payments.medical import cash, posting, repository
from sscard.payments.medical import service as reading
from sscard.payments.medical.errors import SettlementNotFound, SettlementStatusConflict
from sscard.payments.medical.models import MedicalSettlement
from sscard.payments.medical.schemas import (
    INSURANCE_TYPE_NAMES,
    STATUS_NAMES,
    BillIn,
    SettlementOut,
    SettlementStatus,
    SplitOut,
)
from sscard.payments.merchants import payee_service
from sscard.payments.merchants import service as merchants_service
from sscard.registry.persons import service as registry_service
from sscard.settings import get_settings

MEDICAL_MCC = frozenset({"8062", "8011", "8021", "8099", "5912"})
SCENARIO = "hospital"
OFFSITE_BUSINESS = 4
PENDING, PAYING, SETTLED = (
    SettlementStatus.pending,
    SettlementStatus.paying,
    SettlementStatus.settled,
)
FAILED, REFUNDED = SettlementStatus.failed, SettlementStatus.refunded


@dataclass(frozen=True)
class _Intent:
    number: str
    bill: peers_service.MedicalBill
    region_code: str


def _locked(session: Session, number: str) -> MedicalSettlement:
    row = repository.settlement(session, number, lock=True)
    if row is None:
        raise SettlementNotFound(f"结算单 {number} 不存在")
    return row


def beijing_today() -> date:
    return (utcnow() + timedelta(hours=8)).date()


def _new_number(session: Session) -> str:
    day = beijing_today().strftime("%Y%m%d")
    while True:
        number = f"M{day}{secrets.randbelow(10**11):011d}"
        if not repository.number_taken(session, number):
            return number


def _merchant(session: Session, data: BillIn, actor: Actor) -> Any:
    """The institution the bill is for: a terminal's own merchant only (the one it is linked
    to); an operator's within their region."""
    if actor.kind is ActorKind.terminal:
        merchant = payee_service.merchant_of_terminal(session, terminal_code=actor.id)
        if merchant is None or merchant.code != data.merchant_code:
            reason = "本终端未关联该定点机构，不能为其结算"
            raise ValidationFailed([FieldProblem("merchant_code", reason)], reason)
    else:
        merchant = merchants_service.get_merchant_by_code(
            session, code=data.merchant_code, actor=actor
        )
    if merchant.status != "active":
        raise ValidationFailed([FieldProblem("merchant_code", "该商户当前不是正常状态，不能结算")])
    if merchant.mcc not in MEDICAL_MCC:
        raise ValidationFailed([FieldProblem("merchant_code", "该商户不是定点医疗机构或定点药店")])
    return merchant


def _card(session: Session, data: BillIn, actor: Actor) -> tuple[Any, bool]:
    """The card named by the bill, and whether the code asked for off-site settlement."""
    if data.ecard_code is not None:
        verified = ecard_codes.verify_code(
            session, text=data.ecard_code, business=None, scenario_code=SCENARIO, actor=actor
        )
        number = verified.holder.get("card_number")
        card = issuance_service.card_by_number(session, card_number=str(number)) if number else None
        offsite_code = verified.business == OFFSITE_BUSINESS
        field = "ecard_code"
    else:
        card = issuance_service.card_by_number(session, card_number=data.card_number or "")
        offsite_code, field = False, "card_number"
    if card is None:
        raise ValidationFailed([FieldProblem(field, "找不到这张社保卡")])
    if card.status != "active":
        raise ValidationFailed(
            [FieldProblem(field, "该卡不是正常状态（未启用、挂失或已注销），不能结算")]
        )
    return card, offsite_code


def _record_intent(session: Session, data: BillIn, actor: Actor) -> _Intent:
    merchant = _merchant(session, data, actor)
    card, offsite_code = _card(session, data, actor)
    offsite = data.offsite
    if offsite is None:
        offsite = offsite_code or card.region_code[:4] != get_settings().region_code[:4]
    person = registry_service.get_person_by_id(session, person_id=card.person_id)
    id_number = registry_service.reveal_fields(session, person).id_number
    items = [i.model_dump(mode="json") for i in data.items]
    row = MedicalSettlement(
        number=_new_number(session),
        person_id=card.person_id,
        card_id=card.id,
        bank_code=card.bank_code,
        merchant_code=merchant.code,
        region_code=merchant.region_code,
        visit_kind=data.visit_kind.value,
        offsite=offsite,
        source="ecard" if data.ecard_code is not None else "card",
        visit_date=beijing_today(),
        insurance_type=None,
        items=items,
        total_fen=sum(i.amount_fen for i in data.items),
        pool_fen=0,
        personal_fen=0,
        cash_fen=0,
        status=PENDING.value,
        created_by=actor.label[:64],
        created_at=utcnow(),
    )
    repository.add(session, row)
    reading.record_change(session, "settle", row)
    bill = peers_service.MedicalBill(
        settlement_no=row.number,
        id_number=id_number,
        hospital_code=merchant.code,
        visit_kind=row.visit_kind,
        offsite=offsite,
        visit_date=row.visit_date,
        items=tuple(peers_service.MedicalBillItem(**i) for i in items),
    )
    return _Intent(row.number, bill, row.region_code)


def _trial_bill(session: Session, data: BillIn, actor: Actor) -> peers_service.MedicalBill:
    merchant = _merchant(session, data, actor)
    if data.card_number is None:
        problem = FieldProblem("card_number", "试算请填写社保卡卡号（二维码只能使用一次）")
        raise ValidationFailed([problem])
    card, _ = _card(session, data, actor)
    offsite = data.offsite
    if offsite is None:
        offsite = card.region_code[:4] != get_settings().region_code[:4]
    person = registry_service.get_person_by_id(session, person_id=card.person_id)
    return peers_service.MedicalBill(
        settlement_no=f"T{beijing_today():%Y%m%d}{secrets.randbelow(10**11):011d}",
        id_number=registry_service.reveal_fields(session, person).id_number,
        hospital_code=merchant.code,
        visit_kind=data.visit_kind.value,
        offsite=offsite,
        visit_date=beijing_today(),
        items=tuple(peers_service.MedicalBillItem(**i.model_dump(mode="json")) for i in data.items),
    )


def presettle(*, data: BillIn, actor: Actor) -> SplitOut:
    """How a bill would split now (试算); nothing is kept, the code is not used up. The
    medical system is asked after the bill is read (no transaction open during the call)."""
    with db.transaction() as session:
        bill = _trial_bill(session, data, actor)
    split = peers_service.medical_presettle(bill=bill)
    return SplitOut(
        insurance_type=split.insurance_type,
        insurance_type_name=INSURANCE_TYPE_NAMES.get(split.insurance_type, split.insurance_type),
        offsite=bill.offsite,
        total_fen=split.total_fen,
        pool_fen=split.pool_fen,
        personal_fen=split.personal_fen,
        cash_fen=split.cash_fen,
        items=[reading.item_out(i) for i in _merged_items(bill, split)],
    )


def _merged_items(
    bill: peers_service.MedicalBill, split: peers_service.MedicalSplit
) -> list[dict[str, Any]]:
    keys = ("ratio_bp", "deductible_fen", "pool_fen", "personal_fen", "cash_fen", "chronic")
    merged = []
    for index, item in enumerate(bill.items):
        part = split.items[index] if index < len(split.items) else {}
        merged.append({**dataclasses.asdict(item), **{k: part.get(k) for k in keys if k in part}})
    return merged


def _fail(number: str, reason: str) -> None:
    with db.transaction() as session:
        row = _locked(session, number)
        row.status, row.failure_reason = FAILED.value, reason[:200]
        reading.record_change(session, "fail", row)


def _legs(row: MedicalSettlement) -> posting.Legs:
    return posting.Legs(
        number=row.number,
        person_id=row.person_id,
        merchant=row.merchant_code,
        card_id=row.card_id,
        bank_code=row.bank_code,
        pool=row.pool_fen,
        personal=row.personal_fen,
        cash=row.cash_fen,
    )


def _cash_move(session: Session, row: MedicalSettlement, ref: str) -> cash.Debit:
    card = issuance_service.card_by_id(session, card_id=row.card_id)
    return cash.Debit(
        ref=ref,
        bank_code=row.bank_code,
        card_number=card.card_number or "",
        account=making_service.bank_account(session, card=card) or "",
        amount_fen=row.cash_fen,
    )


def _hold(intent: _Intent, split: peers_service.MedicalSplit) -> cash.Debit | None:
    """Store the split and hold the legs; the cash debit still to make (None: none needed)."""
    with db.transaction() as session:
        row = _locked(session, intent.number)
        row.items = _merged_items(intent.bill, split)
        row.insurance_type, row.peer_settlement_id = split.insurance_type, split.settlement_id
        row.pool_fen, row.personal_fen = split.pool_fen, split.personal_fen
        row.cash_fen = split.cash_fen
        posting.fund_personal(
            session,
            number=row.number,
            person_id=row.person_id,
            balance_fen=split.personal_balance_before_fen,
        )
        posting.hold(session, _legs(row))
        row.status = PAYING.value
        if row.cash_fen == 0:
            _complete(session, row)
            return None
        return _cash_move(session, row, row.number)


def _complete(session: Session, row: MedicalSettlement) -> None:
    posting.complete(session, _legs(row))
    row.status, row.settled_at = SETTLED.value, utcnow()
    reading.record_change(session, "settled", row)


def _conclude(number: str, outcome: cash.Outcome) -> None:
    """Post or release the legs after the bank's answer (the medical system is told on no)."""
    if outcome.status == "unknown":
        return
    with db.transaction() as session:
        row = _locked(session, number)
        if row.status != PAYING.value:
            return
        if outcome.status == "done":
            _complete(session, row)
            return
        posting.release(session, _legs(row))
        row.status = FAILED.value
        row.failure_reason = f"银行未能扣除个人现金部分：{outcome.reason}"[:200]
        reading.record_change(session, "fail", row)
    _cancel_at_peer(number)


def _cancel_at_peer(number: str) -> None:
    try:
        peers_service.medical_cancel(settlement_no=number)
    except peers_service.PEER_OUTAGES:
        with db.transaction() as session:
            row = _locked(session, number)
            row.failure_reason = f"{row.failure_reason or ''}；医保结算尚待撤销"[:200]


def _checked_split(intent: _Intent, split: peers_service.MedicalSplit) -> str | None:
    total = sum(i.amount_fen for i in intent.bill.items)
    parts = (split.pool_fen, split.personal_fen, split.cash_fen)
    if min(parts) < 0 or sum(parts) != total or split.total_fen != total:
        return "医保系统返回的分账金额与账单合计不符"
    return None


def _undone(number: str, reason: str, actor: Actor) -> SettlementOut:
    """Fail a settlement the medical system settled, and cancel it there."""
    _fail(number, reason)
    _cancel_at_peer(number)
    return _read(number, actor)


def settle(*, data: BillIn, actor: Actor) -> SettlementOut:
    """Settle a bill: the medical system's split, the cash from the bank, three linked legs.

    Runs its own transactions (see the module docstring); returns the settlement as
    settled, failed (with the reason) or paying (the bank's answer is still unknown)."""
    with db.transaction() as session:
        intent = _record_intent(session, data, actor)
    try:
        split = peers_service.medical_settle(bill=intent.bill)
    except peers_service.PEER_REFUSALS as refused:
        _fail(intent.number, f"医保系统拒绝结算：{getattr(refused, 'reason', '') or refused}")
        return _read(intent.number, actor)
    except peers_service.PEER_OUTAGES:
        return _undone(intent.number, "医保系统暂时无法访问，未结算", actor)
    problem = _checked_split(intent, split)
    if problem is not None:
        return _undone(intent.number, problem, actor)
    try:
        debit = _hold(intent, split)
    except SSCardError as refused:  # the ledger refused the legs: nothing was held
        return _undone(intent.number, f"记账失败：{refused.message}", actor)
    if debit is not None:
        _conclude(intent.number, cash.debit(debit))
    return _read(intent.number, actor)


def resolve_paying(*, limit: int = 100) -> int:
    """Ask the bank about settlements whose cash debit had no answer; how many concluded."""
    with db.transaction() as session:
        waiting = {
            n: _locked(session, n).bank_code for n in repository.stale_paying(session, limit)
        }
    done = 0
    for number, bank_code in waiting.items():
        outcome = cash.status(bank_code=bank_code, ref=number)
        if outcome.status != "unknown":
            _conclude(number, outcome)
            done += 1
    return done


def _read(number: str, actor: Actor) -> SettlementOut:
    with db.transaction() as session:
        return reading.settlement_out(
            session, reading.find_settlement(session, number=number, actor=actor)
        )


def refund(*, number: str, reason: str, actor: Actor) -> SettlementOut:
    """Refund a settled bill (退费): credit the cash back at the bank, cancel at the medical
    system, reverse all three legs. Safe to ask again after a failure half-way."""
    with db.transaction() as session:
        row = reading.find_settlement(session, number=number, actor=actor)
        if row.status != SETTLED.value:
            name = STATUS_NAMES[SettlementStatus(row.status)]
            raise SettlementStatusConflict(f"结算单 {row.number} 当前状态为“{name}”，不能退费")
        number = row.number
        credit = _cash_move(session, row, f"{row.number}R") if row.cash_fen > 0 else None
    if credit is not None:
        cash.credit_back(credit)
    peers_service.medical_cancel(settlement_no=number)
    with db.transaction() as session:
        row = reading.find_settlement(session, number=number, actor=actor, lock=True)
        if row.status == SETTLED.value:
            text = f"就医结算 {number} 退费：{reason}"
            posting.reverse(session, _legs(row), reason=text)
            row.status, row.refund_reason, row.refunded_at = REFUNDED.value, reason[:200], utcnow()
            reading.record_change(session, "refund", row)
        return reading.settlement_out(session, row)
