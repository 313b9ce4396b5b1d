"""The failures queue (待处理失败): retries to the replacement card, resolution by hand.

A line the bank refused waits as ``failed`` with its money in suspense. Two ways out:

- **retry** (重新发放): a new line (``retry_of`` = the failed one) to the person's live card
  with a bank account, sent with the batch's next payment file; its money is held from
  suspense. A line refused because the card was cancelled (``card_cancelled``) is retried
  automatically once the person's replacement card is live (the worker's step and
  ``sscard payments disbursement retry``); a clerk may retry any failed line by hand.
- **resolve** (人工处理): closed with a reason; its money goes back from suspense to the
  benefit fund (posted, ``dsb:<line id>:back``).

Both are audited.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.issuance.cards import service as issuance_service
from sscard.kit.context import Actor
from sscard.payments.disbursement import repository
from sscard.payments.disbursement.bankfiles import settle_status
from sscard.payments.disbursement.errors import LineStateConflict
from sscard.payments.disbursement.models import DisbursementLine
from sscard.payments.disbursement.schemas import LINE_STATUS_NAMES, LineStatus
from sscard.payments.disbursement.service import FUND, SUSPENSE, get_line, record
from sscard.payments.ledger import service as ledger_service
from sscard.payments.ledger.schemas import TransferIn

CARD_CANCELLED = "card_cancelled"


def _must_be_failed(line: DisbursementLine, what: str) -> None:
    if line.status != LineStatus.failed.value:
        now = LINE_STATUS_NAMES[LineStatus(line.status)]
        raise LineStateConflict(f"发放明细 {line.id} 当前状态为“{now}”，不能{what}")


def _retry(
    session: Session, line: DisbursementLine, *, new_card_only: bool
) -> DisbursementLine | None:
    """A retry line to the person's live card with a bank account (None: no such card)."""
    card = issuance_service.live_card(session, person_id=line.person_id)
    if card is None or card.bank_account_masked is None or not card.card_number:
        return None
    if new_card_only and card.id == line.card_id:
        return None
    now = utcnow()
    retry = DisbursementLine(
        batch_id=line.batch_id,
        row_no=line.row_no,
        person_id=line.person_id,
        id_number_masked=line.id_number_masked,
        name_masked=line.name_masked,
        kind=line.kind,
        period=line.period,
        card_id=card.id,
        card_number=card.card_number,
        bank_code=card.bank_code,
        bank_account_masked=card.bank_account_masked,
        amount_fen=line.amount_fen,
        status=LineStatus.pending.value,
        retry_of_id=line.id,
        created_at=now,
        updated_at=now,
    )
    repository.add(session, [retry])
    line.status, line.updated_at = LineStatus.retried.value, now
    record(session, "retry", str(line.id), retry=retry.id, card_changed=card.id != line.card_id)
    return retry


def retry_line(session: Session, *, line_id: int, actor: Actor) -> DisbursementLine:
    """A clerk retries a failed line to the person's live card (the same or a new one)."""
    line = get_line(session, line_id=line_id, actor=actor, lock=True)
    _must_be_failed(line, "重新发放")
    retry = _retry(session, line, new_card_only=False)
    if retry is None:
        raise LineStateConflict(f"发放明细 {line.id} 的人员目前没有有效的、已开通银行账户的社保卡")
    return retry


def retry_cancelled_cards(session: Session) -> list[int]:
    """Retry every line refused for a cancelled card whose holder now has a live
    replacement card with a bank account; the batch of each retry line made."""
    batches: list[int] = []
    for line in repository.failed_lines(session, fail_code=CARD_CANCELLED):
        if _retry(session, line, new_card_only=True) is not None:
            batches.append(line.batch_id)
    return batches


def resolve_line(session: Session, *, line_id: int, note: str, actor: Actor) -> DisbursementLine:
    """Close a failed line by hand with a reason; its money goes back to the benefit fund."""
    line = get_line(session, line_id=line_id, actor=actor, lock=True)
    _must_be_failed(line, "人工处理")
    ledger_service.post_transfers(
        session,
        transfers=[
            TransferIn(
                ref=f"dsb:{line.id}:back",
                debit_account=SUSPENSE,
                credit_account=FUND,
                amount=line.amount_fen,
                code="benefit",
                reason=f"人工处理：{note}"[:200],
            )
        ],
    )
    line.status, line.note, line.updated_at = LineStatus.resolved.value, note, utcnow()
    record(session, "resolve", str(line.id), note=note)
    settle_status(session, batch_id=line.batch_id)
    return line
