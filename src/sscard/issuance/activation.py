"""The card's bank and transport functions: one-step activation (一站式启用), changing the
service bank (换绑服务银行), and the account's balance and transactions.

Design overview
===============

One-step activation is a saga of three steps, taken in this order::

    bank ──done──> transport ──done──> card (issued -> active)
     │                │                  │
   failed           failed             failed (the card left ``issued`` meanwhile)
     ▼                ▼                  ▼
   nothing to undo  undo bank          undo transport, undo bank

- :func:`start` (the request) checks that the card may be activated and writes one
  ``ActivationStep`` row per step: ``pending``, or ``skipped`` when there is nothing to do
  (no partner configured, a 2nd-generation card has no transit area, the account is already
  active). It enqueues the first external step; with none, the card is activated at once.
- The outbox (destination ``issuance.activation``) delivers the steps after commit, retried
  with backoff. A success marks the step ``done`` and, in the same transaction, enqueues
  the next step or, after the last one, activates the card (the ``card`` step).
- A refusal, or the last attempt failing, marks the step ``failed`` with the reason, marks
  the ``card`` step ``failed``, and enqueues the undo of each step already ``done``, which is
  ``compensating`` until its undo is delivered, then ``compensated``.
- The card stays ``issued`` until every external step is done: the card itself never needs
  undoing, and a card is never ``active`` with its bank account left behind.
- Every start is a *run*; ``ActivationStep.attempts`` holds the run number of the step and
  the outbox keys carry it, so a late delivery of an earlier run finds its step moved on
  and does nothing. A failed activation may be started again (a new run); one still
  running may not (409).

The whole is ``none`` (never started), ``pending``, ``done``, ``failed`` or
``compensating``; each step's reason is in ``last_error``, and every move is on the card's
timeline. Peers are called with the outbox message key as ``Idempotency-Key``, so the
at-least-once delivery of the outbox never acts twice at a bank or the transport operator.

Changing the service bank
-------------------------
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

from sqlalchemy import select
from sqlalchemy.orm import Session

from sscard import db
from sscard.crypto import fields
from sscard.db import utcnow
from sscard.errors import Conflict, FieldProblem, ValidationFailed
from sscard.exchange.peers import service as exchange_service
from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType, region_covers
from sscard.issuance import lifecycle, service
from sscard.issuance.errors import TransitionNotAllowed
from sscard.issuance.lifecycle import Action, Status
from sscard.issuance.models import CARD_TABLE, ActivationStep, Card, CardEvent
from sscard.issuance.schemas import (
    ActivationOut,
    ActivationStepOut,
    BalanceOut,
    BankTransactionOut,
    NamedStatus,
)
from sscard.kit import access, outbox
from sscard.kit.access import AccessRecord
from sscard.kit.context import SYSTEM, Actor
from sscard.kit.masking import mask_bank_account, mask_card_number
from sscard.settings import get_settings

ACTIVATION = "issuance.activation"
BANK_CHANGE = "issuance.bank_change"

EXTERNAL_STEPS = ("bank", "transport")
STEPS = (*EXTERNAL_STEPS, "card")
STEP_NAMES = {"bank": "银行账户启用", "transport": "交通功能开通", "card": "社保卡启用"}
STEP_STATUS_NAMES = {
    "pending": "办理中", "done": "已完成", "failed": "失败", "compensating": "撤销中",
    "compensated": "已撤销", "skipped": "无需办理",
}  # fmt: skip
OVERALL_NAMES = {
    "none": "未启用", "pending": "启用中", "done": "已启用", "failed": "启用失败",
    "compensating": "启用失败，正在撤销已办理的步骤",
}  # fmt: skip
ACTION_NAMES = {
    "activation": "一站式启用", "activation_step": "一站式启用步骤",
    "activation_failed": "一站式启用失败", "activation_compensated": "一站式启用已撤销",
    "bank_bound": "新银行已绑定", "bank_unbound": "原银行已解绑", "bank_change_failed": "换绑失败",
}  # fmt: skip
"""Timeline actions written here (shown by ``service.card_detail``)."""

BANK_CHANGE_STATUSES = frozenset({Status.issued, Status.active})


class ActivationInProgress(Conflict):
    code = "activation_in_progress"

    def __init__(self, message: str = "该卡的一站式启用正在办理中，请稍后查看进度") -> None:
        super().__init__(message)


class BankChangeRefused(Conflict):
    code = "bank_change_refused"


class NoBankAccount(Conflict):
    code = "no_bank_account"

    def __init__(self) -> None:
        super().__init__("该卡暂无银行账户信息（换绑服务银行尚未完成或为异地卡）")


# ---- pure rules ------------------------------------------------------------------------


def overall(statuses: dict[str, str]) -> str:
    """The state of the whole saga from its steps' statuses."""
    if not statuses:
        return "none"
    found = set(statuses.values())
    if "compensating" in found:
        return "compensating"
    if "failed" in found:
        return "failed"
    if statuses.get("card") == "done":
        return "done"
    return "pending"


def bank_change_refusal(
    *,
    generation: int,
    status: Status,
    managed_here: bool,
    same_bank: bool,
    activation_running: bool,
    change_running: bool,
) -> str | None:
    """Why a card's service bank cannot be changed now, or None."""
    if generation < 3:
        return "第二代社保卡的银行账户写在卡内，不能换绑服务银行，请办理补换卡"
    if status not in BANK_CHANGE_STATUSES:
        return f"卡片当前状态为“{lifecycle.STATUS_NAMES[status]}”，仅已发放或正常状态的卡可换绑"
    if not managed_here:
        return "该卡由其他地市管理，请先办理地市卡转移"
    if same_bank:
        return "新服务银行与原服务银行相同"
    if activation_running:
        return "该卡的一站式启用正在办理中，请完成后再换绑"
    if change_running:
        return "该卡上一次换绑服务银行尚未完成"
    return None


# ---- queries -------------------------------------------------------------------------


def _steps(session: Session, card_id: str) -> dict[str, ActivationStep]:
    rows = session.scalars(select(ActivationStep).where(ActivationStep.card_id == card_id))
    return {row.step: row for row in rows}


def _locked_card(session: Session, card_id: str) -> Card | None:
    """The card, row-locked (PostgreSQL) so that the saga's records of one card queue up."""
    return session.get(Card, card_id, with_for_update=True)


def _bank_change_running(session: Session, card_id: str) -> bool:
    stmt = (
        select(CardEvent.action)
        .where(
            CardEvent.card_id == card_id,
            CardEvent.action.in_(("bank_change", "bank_bound", "bank_change_failed")),
        )
        .order_by(CardEvent.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first() == "bank_change"


# ---- one-step activation ---------------------------------------------------------------


def activation_out(session: Session, card: Card) -> ActivationOut:
    """The saga's progress for a card."""
    rows = _steps(session, card.id)
    statuses = {step: row.status for step, row in rows.items()}
    state = overall(statuses)
    failed = [rows[s] for s in STEPS if s in rows and rows[s].status == "failed"]
    reason = None
    if state in ("failed", "compensating") and failed:
        first = failed[0]
        reason = f"{STEP_NAMES[first.step]}失败：{first.last_error or '未知原因'}"
    return ActivationOut(
        card_id=card.id, card_number=card.card_number,
        card_status=NamedStatus(code=card.status, name=lifecycle.STATUS_NAMES[Status(card.status)]),
        status=state, status_name=OVERALL_NAMES[state], reason=reason,
        steps=[
            ActivationStepOut(
                step=s, name=STEP_NAMES[s], status=rows[s].status,
                status_name=STEP_STATUS_NAMES.get(rows[s].status, rows[s].status),
                run=rows[s].attempts, last_error=rows[s].last_error, updated_at=rows[s].updated_at,
            )
            for s in STEPS if s in rows
        ],
    )  # fmt: skip


def get_activation(session: Session, *, card_ref: str, actor: Actor) -> ActivationOut:
    """The progress of a card's one-step activation."""
    return activation_out(session, service.get_card(session, card_ref=card_ref, actor=actor))


def _plan(card: Card) -> dict[str, str]:
    bank = (
        card.bank_account_enc is not None
        and not card.bank_account_active
        and exchange_service.bank_configured(bank_code=card.bank_code)
    )
    transport = (
        card.generation >= 3
        and not card.transport_enabled
        and exchange_service.transport_configured()
    )
    return {
        "bank": "pending" if bank else "skipped",
        "transport": "pending" if transport else "skipped",
        "card": "pending",
    }


def _check_startable(session: Session, card: Card, rows: dict[str, ActivationStep]) -> None:
    if overall({s: r.status for s, r in rows.items()}) in ("pending", "compensating"):
        raise ActivationInProgress()
    try:
        lifecycle.next_status(Status(card.status), Action.activate)
    except lifecycle.TransitionRefused as refused:
        raise TransitionNotAllowed(str(refused)) from refused
    if _bank_change_running(session, card.id):
        raise ActivationInProgress("该卡换绑服务银行尚未完成，请完成后再启用")


def start(session: Session, *, card: Card, actor: Actor) -> ActivationOut:
    """Start one-step activation of an issued card: bank, transport, then the card."""
    rows = _steps(session, card.id)
    _check_startable(session, card, rows)
    run = max((r.attempts for r in rows.values()), default=0) + 1
    plan, now = _plan(card), utcnow()
    for step, status in plan.items():
        row = rows.get(step) or ActivationStep(card_id=card.id, step=step)
        row.status, row.attempts, row.last_error, row.updated_at = status, run, None, now
        session.add(row)
        rows[step] = row
    service.note(session, card=card, action="activation", actor=actor, detail={"run": run, **plan})
    first = next((s for s in EXTERNAL_STEPS if plan[s] == "pending"), None)
    if first is not None:
        _enqueue(session, card.id, first, run, "do")
    else:
        _complete(session, card, rows, run, actor)
    service.flush(session)
    return activation_out(session, card)


def activate(session: Session, *, card_ref: str, actor: Actor) -> ActivationOut:
    """One-step activation (一站式启用) of a card found by number, code or id."""
    return start(
        session, card=service.get_card(session, card_ref=card_ref, actor=actor), actor=actor
    )


def _enqueue(session: Session, card_id: str, step: str, run: int, op: str) -> None:
    outbox.enqueue(
        session,
        destination=ACTIVATION,
        payload={"card_id": card_id, "step": step, "run": run, "op": op},
        key=f"activation:{card_id}:{run}:{step}:{op}",
    )


def _complete(
    session: Session, card: Card, rows: dict[str, ActivationStep], run: int, actor: Actor
) -> None:
    """The last step: the card becomes active, or the saga fails if it cannot."""
    if card.status != Status.issued:
        name = lifecycle.STATUS_NAMES[Status(card.status)]
        _fail(session, card, rows, "card", f"卡片状态已变为“{name}”，未启用", run)
        return
    rows["card"].status, rows["card"].updated_at = "done", utcnow()
    card.bank_account_active = card.bank_account_active or rows["bank"].status == "done"
    card.transport_enabled = card.transport_enabled or rows["transport"].status == "done"
    detail = {"run": run, "bank": rows["bank"].status, "transport": rows["transport"].status}
    service.transition(session, card=card, action=Action.activate, actor=actor, detail=detail)


def _fail(
    session: Session, card: Card, rows: dict[str, ActivationStep], step: str, reason: str, run: int
) -> None:
    """Mark ``step`` (and the card step) failed and undo every step already done."""
    now = utcnow()
    rows[step].status, rows[step].last_error, rows[step].updated_at = "failed", reason[:300], now
    if step != "card":
        card_row = rows["card"]
        card_row.status, card_row.updated_at = "failed", now
        card_row.last_error = f"{STEP_NAMES[step]}失败，社保卡未启用"
    undo = [s for s in EXTERNAL_STEPS if rows[s].status == "done"]
    for done in undo:
        rows[done].status, rows[done].updated_at = "compensating", now
        _enqueue(session, card.id, done, run, "undo")
    service.note(
        session, card=card, action="activation_failed", actor=SYSTEM,
        detail={"run": run, "step": step, "reason": reason[:200], "undo": undo},
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Call:
    """What one delivery needs, read in a short transaction before calling the peer."""

    card_number: str
    card_id_code: str | None
    bank_code: str
    account: str | None


def _current(
    session: Session, card_id: str, step: str, run: int, op: str
) -> tuple[Card, dict[str, ActivationStep]] | None:
    """The card and its steps if this delivery still applies (else None: superseded)."""
    card = _locked_card(session, card_id)
    rows = _steps(session, card_id) if card is not None else {}
    row = rows.get(step)
    expected = "pending" if op == "do" else "compensating"
    if card is None or row is None or row.attempts != run or row.status != expected:
        return None
    return card, rows


def _prepare(card_id: str, step: str, run: int, op: str) -> _Call | None:
    with db.transaction() as session:
        found = _current(session, card_id, step, run, op)
        if found is None:
            return None
        card = found[0]
        account = service.bank_account(session, card=card) if step == "bank" else None
        return _Call(card.card_number or "", card.card_id_code, card.bank_code, account)


def _perform(call: _Call, step: str, op: str, key: str) -> None:
    if step == "bank":
        account = call.account or ""
        args = {"bank_code": call.bank_code, "card_number": call.card_number, "account": account}
        if op == "do":
            exchange_service.bank_activate_account(**args, key=key)
        else:
            exchange_service.bank_deactivate_account(**args, key=key)
    elif op == "do":
        exchange_service.transport_enable(
            card_number=call.card_number, card_id_code=call.card_id_code, key=key
        )
    else:
        exchange_service.transport_disable(card_number=call.card_number, key=key)


def deliver_activation(message: outbox.Message) -> None:
    """Outbox handler of ``issuance.activation``: one step (or its undo) at its peer."""
    card_id, step = str(message.payload["card_id"]), str(message.payload["step"])
    run, op = int(message.payload["run"]), str(message.payload["op"])
    call = _prepare(card_id, step, run, op)
    if call is None:
        return
    try:
        _perform(call, step, op, message.key or f"activation:{message.id}")
    except exchange_service.PEER_REFUSALS as exc:
        _record_failure(card_id, step, run, op, str(exc), final=True)
        raise outbox.PermanentFailure(str(exc)) from exc
    except exchange_service.PEER_OUTAGES as exc:
        _record_failure(
            card_id, step, run, op, str(exc), final=message.attempt >= message.max_attempts
        )
        raise
    _record_success(card_id, step, run, op)


def _record_success(card_id: str, step: str, run: int, op: str) -> None:
    with db.transaction() as session:
        found = _current(session, card_id, step, run, op)
        if found is None:
            return
        card, rows = found
        rows[step].status = "done" if op == "do" else "compensated"
        rows[step].last_error, rows[step].updated_at = None, utcnow()
        service.note(
            session, card=card, action="activation_step", actor=SYSTEM,
            detail={"run": run, "step": step, "status": rows[step].status},
        )  # fmt: skip
        if op == "undo":
            if not any(r.status == "compensating" for r in rows.values()):
                service.note(session, card=card, action="activation_compensated", actor=SYSTEM,
                             detail={"run": run})  # fmt: skip
            return
        following = [s for s in EXTERNAL_STEPS[EXTERNAL_STEPS.index(step) + 1 :]
                     if rows[s].status == "pending"]  # fmt: skip
        if following:
            _enqueue(session, card.id, following[0], run, "do")
        else:
            _complete(session, card, rows, run, SYSTEM)
        service.flush(session)


def _record_failure(
    card_id: str, step: str, run: int, op: str, reason: str, *, final: bool
) -> None:
    with db.transaction() as session:
        found = _current(session, card_id, step, run, op)
        if found is None:
            return
        card, rows = found
        row = rows[step]
        if op == "undo" or not final:
            row.last_error = (f"撤销失败：{reason}" if op == "undo" else reason)[:300]
            row.updated_at = utcnow()
            return
        _fail(session, card, rows, step, reason, run)


# ---- changing the service bank ---------------------------------------------------------


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
    card = service.get_card(session, card_ref=card_ref, actor=actor)
    why = bank_change_refusal(
        generation=card.generation, status=Status(card.status),
        managed_here=card.managing_region_code == get_settings().region_code,
        same_bank=card.bank_code == bank_code,
        activation_running=overall({s: r.status for s, r in _steps(session, card.id).items()})
        in ("pending", "compensating"),
        change_running=_bank_change_running(session, card.id),
    )  # fmt: skip
    if why:
        raise BankChangeRefused(why)
    _new_bank(session, card, bank_code)
    old = card.bank_code
    card.bank_code, card.bank_account_enc, card.bank_account_masked = bank_code, None, None
    card.bank_account_active, card.updated_at = False, utcnow()
    service.note(session, card=card, action="bank_change", actor=actor,
                 detail={"from": old, "to": bank_code, "note": note})  # fmt: skip
    service.flush(session)
    for op, code in (("unbind", old), ("bind", bank_code)):
        outbox.enqueue(
            session, destination=BANK_CHANGE,
            payload={"card_id": card.id, "op": op, "bank_code": code, "change": card.version},
            key=f"bank-change:{card.id}:{card.version}:{op}",
        )  # fmt: skip
    return card


def _bank_change_call(card_id: str, op: str, bank_code: str) -> tuple[str, bool] | None:
    with db.transaction() as session:
        card = session.get(Card, card_id)
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
            account: str | None = exchange_service.bank_bind_card(
                bank_code=bank_code, card_number=card_number, activate=active, key=key
            )
        else:
            exchange_service.bank_unbind_card(bank_code=bank_code, card_number=card_number, key=key)
            account = None
    except exchange_service.PEER_REFUSALS as exc:
        _bank_change_failed(card_id, op, bank_code, str(exc))
        raise outbox.PermanentFailure(str(exc)) from exc
    except exchange_service.PEER_OUTAGES as exc:
        if message.attempt >= message.max_attempts:
            _bank_change_failed(card_id, op, bank_code, str(exc))
        raise
    _bank_changed(card_id, op, bank_code, account, active)


def _bank_changed(card_id: str, op: str, bank_code: str, account: str | None, active: bool) -> None:
    with db.transaction() as session:
        card = _locked_card(session, card_id)
        if card is None:
            return
        if op == "unbind" or account is None:
            service.note(session, card=card, action="bank_unbound", actor=SYSTEM,
                         detail={"bank_code": bank_code})  # fmt: skip
            return
        if card.bank_code != bank_code:
            return
        card.bank_account_enc = fields.encrypt_field(
            account, table=CARD_TABLE, column="bank_account_enc", row_id=card.id, session=session
        )
        card.bank_account_masked = mask_bank_account(account)
        card.bank_account_active, card.updated_at = active, utcnow()
        detail = {"bank_code": bank_code, "bank_account": card.bank_account_masked}
        service.note(session, card=card, action="bank_bound", actor=SYSTEM, detail=detail)
        service.flush(session)


def _bank_change_failed(card_id: str, op: str, bank_code: str, reason: str) -> None:
    with db.transaction() as session:
        card = _locked_card(session, card_id)
        if card is not None:
            detail = {"op": op, "bank_code": bank_code, "reason": reason[:200]}
            service.note(
                session, card=card, action="bank_change_failed", actor=SYSTEM, detail=detail
            )


# ---- balance and transactions ----------------------------------------------------------


def _account(session: Session, card: Card, action: str) -> tuple[str, str]:
    account = service.bank_account(session, card=card)
    if account is None or card.card_number is None:
        raise NoBankAccount()
    access.record(
        session,
        AccessRecord(
            action=action, subject_type="card", subject_id=card.id,
            subject_display=mask_card_number(card.card_number), fields=("bank_account",),
        ),
    )  # fmt: skip
    return card.card_number, account


def bank_balance(session: Session, *, card_ref: str, actor: Actor) -> BalanceOut:
    """The balance of the card's account, asked of its bank (audited)."""
    card = service.get_card(session, card_ref=card_ref, actor=actor)
    card_number, account = _account(session, card, "card.bank.balance")
    found = exchange_service.bank_balance(
        bank_code=card.bank_code, card_number=card_number, account=account
    )
    return BalanceOut(
        card_number=card_number, bank_code=card.bank_code,
        bank_account=card.bank_account_masked or mask_bank_account(account),
        balance_fen=found.balance_fen, available_fen=found.available_fen,
        currency=found.currency, as_of=found.as_of,
    )  # fmt: skip


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
    card = service.get_card(session, card_ref=card_ref, actor=actor)
    card_number, account = _account(session, card, "card.bank.transactions")
    items = exchange_service.bank_transactions(
        bank_code=card.bank_code, card_number=card_number, account=account, start=start,
        end=end, limit=limit,
    )  # fmt: skip
    return [
        BankTransactionOut(
            occurred_at=t.occurred_at, amount_fen=t.amount_fen, balance_fen=t.balance_fen,
            kind=t.kind, description=t.description,
        )
        for t in items
    ]  # fmt: skip


# ---- wiring ------------------------------------------------------------------------------


def register() -> None:
    """Outbox destinations of the saga and of bank changes (called at start-up)."""
    outbox.register_destination(ACTIVATION, deliver_activation, max_attempts=12)
    outbox.register_destination(BANK_CHANGE, deliver_bank_change, max_attempts=12)
