"""One-step activation (一站式启用): the card, its bank account and its transport function
in one step, as a saga delivered by the outbox. The pure rules are in ``saga``.

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
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from sscard import db
from sscard.db import utcnow
from sscard.exchange.peers import service as exchange_peers
from sscard.issuance import lifecycle
from sscard.issuance.activation import repository
from sscard.issuance.activation.errors import ActivationInProgress
from sscard.issuance.activation.models import ActivationStep
from sscard.issuance.activation.saga import (
    EXTERNAL_STEPS,
    OVERALL_NAMES,
    STEP_NAMES,
    STEP_STATUS_NAMES,
    STEPS,
    overall,
)
from sscard.issuance.activation.schemas import ActivationOut, ActivationStepOut
from sscard.issuance.cards import making_service
from sscard.issuance.cards import service as cards_service
from sscard.issuance.cards.errors import TransitionNotAllowed
from sscard.issuance.cards.models import Card
from sscard.issuance.cards.schemas import NamedStatus
from sscard.issuance.lifecycle import Action, Status
from sscard.kit import outbox
from sscard.kit.context import SYSTEM, Actor

ACTIVATION = "issuance.activation"


def activation_out(session: Session, card: Card) -> ActivationOut:
    """The saga's progress for a card."""
    rows = repository.steps(session, card.id)
    statuses = {step: row.status for step, row in rows.items()}
    state = overall(statuses)
    failed = [rows[s] for s in STEPS if s in rows and rows[s].status == "failed"]
    reason = None
    if state in ("failed", "compensating") and failed:
        first = failed[0]
        reason = f"{STEP_NAMES[first.step]}失败：{first.last_error or '未知原因'}"
    return ActivationOut(
        card_id=card.id,
        card_number=card.card_number,
        card_status=NamedStatus(code=card.status, name=lifecycle.STATUS_NAMES[Status(card.status)]),
        status=state,
        status_name=OVERALL_NAMES[state],
        reason=reason,
        steps=[
            ActivationStepOut(
                step=s,
                name=STEP_NAMES[s],
                status=rows[s].status,
                status_name=STEP_STATUS_NAMES.get(rows[s].status, rows[s].status),
                run=rows[s].attempts,
                last_error=rows[s].last_error,
                updated_at=rows[s].updated_at,
            )
            for s in STEPS
            if s in rows
        ],
    )


def get_activation(session: Session, *, card_ref: str, actor: Actor) -> ActivationOut:
    """The progress of a card's one-step activation."""
    return activation_out(session, cards_service.get_card(session, card_ref=card_ref, actor=actor))


def bank_step_unconfigured(card: Card) -> bool:
    """True when the card's bank account waits to be enabled but the platform has no URL
    for its bank (``SSCARD_BANK_URLS``): activation would skip the bank step."""
    try:
        lifecycle.next_status(Status(card.status), Action.activate)
    except lifecycle.TransitionRefused:
        return False
    return (
        card.bank_account_enc is not None
        and not card.bank_account_active
        and not exchange_peers.bank_configured(bank_code=card.bank_code)
    )


def _plan(card: Card) -> dict[str, str]:
    bank = (
        card.bank_account_enc is not None
        and not card.bank_account_active
        and exchange_peers.bank_configured(bank_code=card.bank_code)
    )
    transport = (
        card.generation >= 3
        and not card.transport_enabled
        and exchange_peers.transport_configured()
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
    if repository.bank_change_running(session, card.id):
        raise ActivationInProgress("该卡换绑服务银行尚未完成，请完成后再启用")


def start(session: Session, *, card: Card, actor: Actor) -> ActivationOut:
    """Start one-step activation of an issued card: bank, transport, then the card."""
    rows = repository.steps(session, card.id)
    _check_startable(session, card, rows)
    run = max((r.attempts for r in rows.values()), default=0) + 1
    plan, now = _plan(card), utcnow()
    for step, status in plan.items():
        row = rows.get(step) or ActivationStep(card_id=card.id, step=step)
        row.status, row.attempts, row.last_error, row.updated_at = status, run, None, now
        session.add(row)
        rows[step] = row
    cards_service.note(
        session, card=card, action="activation", actor=actor, detail={"run": run, **plan}
    )
    first = next((s for s in EXTERNAL_STEPS if plan[s] == "pending"), None)
    if first is not None:
        _enqueue(session, card.id, first, run, "do")
    else:
        _complete(session, card, rows, run, actor)
    cards_service.flush(session)
    return activation_out(session, card)


def activate(session: Session, *, card_ref: str, actor: Actor) -> ActivationOut:
    """One-step activation (一站式启用) of a card found by number, code or id."""
    return start(
        session, card=cards_service.get_card(session, card_ref=card_ref, actor=actor), actor=actor
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
    cards_service.transition(session, card=card, action=Action.activate, actor=actor, detail=detail)


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
    cards_service.note(
        session,
        card=card,
        action="activation_failed",
        actor=SYSTEM,
        detail={"run": run, "step": step, "reason": reason[:200], "undo": undo},
    )


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
    card = repository.locked_card(session, card_id)
    rows = repository.steps(session, card_id) if card is not None else {}
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
        account = making_service.bank_account(session, card=card) if step == "bank" else None
        return _Call(card.card_number or "", card.card_id_code, card.bank_code, account)


def _perform(call: _Call, step: str, op: str, key: str) -> None:
    if step == "bank":
        account = call.account or ""
        args = {"bank_code": call.bank_code, "card_number": call.card_number, "account": account}
        if op == "do":
            exchange_peers.bank_activate_account(**args, key=key)
        else:
            exchange_peers.bank_deactivate_account(**args, key=key)
    elif op == "do":
        exchange_peers.transport_enable(
            card_number=call.card_number, card_id_code=call.card_id_code, key=key
        )
    else:
        exchange_peers.transport_disable(card_number=call.card_number, key=key)


def deliver_activation(message: outbox.Message) -> None:
    """Outbox handler of ``issuance.activation``: one step (or its undo) at its peer."""
    card_id, step = str(message.payload["card_id"]), str(message.payload["step"])
    run, op = int(message.payload["run"]), str(message.payload["op"])
    call = _prepare(card_id, step, run, op)
    if call is None:
        return
    try:
        _perform(call, step, op, message.key or f"activation:{message.id}")
    except exchange_peers.PEER_REFUSALS as exc:
        _record_failure(card_id, step, run, op, str(exc), final=True)
        raise outbox.PermanentFailure(str(exc)) from exc
    except exchange_peers.PEER_OUTAGES as exc:
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
        cards_service.note(
            session,
            card=card,
            action="activation_step",
            actor=SYSTEM,
            detail={"run": run, "step": step, "status": rows[step].status},
        )
        if op == "undo":
            if not any(r.status == "compensating" for r in rows.values()):
                cards_service.note(
                    session,
                    card=card,
                    action="activation_compensated",
                    actor=SYSTEM,
                    detail={"run": run},
                )
            return
        following = [
            s
            for s in EXTERNAL_STEPS[EXTERNAL_STEPS.index(step) + 1 :]
            if rows[s].status == "pending"
        ]
        if following:
            _enqueue(session, card.id, following[0], run, "do")
        else:
            _complete(session, card, rows, run, SYSTEM)
        cards_service.flush(session)


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
