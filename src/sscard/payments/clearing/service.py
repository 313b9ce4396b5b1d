"""Clearing use cases: run a clearing day, read the days and their settlement reports.

Running a day (see ``rules.py`` for the cut-off, the fee and what counts) folds the day's
payment and refund legs of the ledger, posts one linked chain: for each merchant a fee
(``clr:<yyyymmdd>:<merchant>:fee``, merchant -> fee-income) and a settlement
(``clr:<yyyymmdd>:<merchant>:stl``, merchant -> the reserve bank's clearing account), writes
the settlement file and its manifest, and records the day. A day runs once: running it again
answers with the day as recorded and changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from sscard.crypto.primitives import sm3
from sscard.db import utcnow
from sscard.iam import service as iam_service
from sscard.kit import access
from sscard.kit.context import SYSTEM, Actor, ActorKind
from sscard.payments.clearing import files, repository, rules
from sscard.payments.clearing.errors import DayNotCleared, DayNotOver, PaymentsBooksOutOfScope
from sscard.payments.clearing.models import ClearingDay, ClearingLine
from sscard.payments.clearing.rules import Movement, PartyTotals
from sscard.payments.clearing.schemas import (
    ClearingDayOut,
    ClearingDaySummary,
    ClearingLineOut,
)
from sscard.payments.ledger import service as ledger_service
from sscard.payments.ledger.schemas import AccountIn, TransferIn
from sscard.payments.merchants import service as merchants_service
from sscard.payments.merchants.schemas import SettlementTerms
from sscard.settings import get_settings

MONEY_CODES = ("payment", "refund", "medical")


def check_scope(actor: Actor) -> None:
    """Clearing and reconciliation are the platform's books: its own operators only."""
    if actor.kind is ActorKind.system:
        return
    if actor.kind is not ActorKind.operator or (
        actor.institution_code != iam_service.PLATFORM_INSTITUTION
    ):
        raise PaymentsBooksOutOfScope


def cutoff() -> time:
    return rules.parse_cutoff(get_settings().pay_cutoff)


def current_day() -> date:
    """The clearing day now (after today's cut-off, already tomorrow's)."""
    return rules.clearing_day(utcnow(), cutoff())


def our_movements(session: Session, *, day: date) -> dict[str, Movement]:
    """Our books for a clearing day: one movement per order number or refund."""
    start, end = rules.window(day, cutoff())
    return rules.fold(ledger_service.movements(session, codes=MONEY_CODES, start=start, end=end))


def settlement_dir() -> Path:
    return get_settings().data_dir / "settlement"


def run_day(session: Session, *, day: date, actor: Actor) -> ClearingDayOut:
    """Clear and settle ``day`` once its cut-off has passed (idempotent)."""
    check_scope(actor)
    done = repository.day(session, day)
    if done is not None:
        return _out(done, repository.lines(session, day))
    if rules.window(day, cutoff())[1] > utcnow():
        raise DayNotOver(f"清算日 {day} 尚未日切（日切时间 {get_settings().pay_cutoff}）")
    moves = our_movements(session, day=day).values()
    merchants = rules.totals(moves, by="merchant")
    banks = rules.totals(moves, by="bank")
    terms = merchants_service.settlement_terms(session, codes=merchants.keys())
    settle = [_settlement(t, terms.get(t.party)) for t in merchants.values()]
    _post(session, day, settle)
    data, manifest = files.write(day, get_settings().pay_settlement_bank, settle)
    _save_file(day, data, manifest)
    row, lines = _record(day, actor, merchants, banks, settle, data)
    repository.add(session, [row, *lines])
    access.record(
        session,
        access.AccessRecord(
            action="payments.clearing.run",
            subject_type="clearing_day",
            subject_id=f"{day:%Y%m%d}",
            subject_display=f"{day:%Y-%m-%d}",
            detail={"merchants": len(settle), "settled_fen": row.settled_fen},
        ),
    )
    return _out(row, lines)


def _settlement(t: PartyTotals, terms: SettlementTerms | None) -> files.SettlementLine:
    rate = terms.fee_rate_bp if terms else 0
    fee = rules.fee(t.net_fen, rate)
    return files.SettlementLine(
        merchant=t.party,
        name=terms.name if terms else "",
        bank=terms.bank if terms else "",
        account=terms.account if terms else "",
        pay_fen=t.pay_fen,
        refund_fen=t.refund_fen,
        fee_fen=fee,
        settle_fen=max(t.net_fen - fee, 0),
    )


def _post(session: Session, day: date, settle: list[files.SettlementLine]) -> None:
    """One linked chain: every fee and every settlement of the day, or none."""
    reserve = f"bank-clearing:{get_settings().pay_settlement_bank}"
    chain: list[TransferIn] = []
    for s in settle:
        merchant, tag = f"merchant:{s.merchant}", f"clr:{day:%Y%m%d}:{s.merchant}"
        if s.fee_fen:
            chain.append(_transfer(f"{tag}:fee", merchant, "fee-income", s.fee_fen, "fee", day))
        if s.settle_fen:
            chain.append(
                _transfer(f"{tag}:stl", merchant, reserve, s.settle_fen, "settlement", day)
            )
    if chain:
        for code in ("fee-income", reserve):
            ledger_service.open_account(session, data=AccountIn(code=code))
        ledger_service.post_transfers(session, transfers=chain)


def _transfer(ref: str, debit: str, credit: str, amount: int, code: str, day: date) -> TransferIn:
    words = "手续费" if code == "fee" else "结算划付"
    return TransferIn(
        ref=ref,
        debit_account=debit,
        credit_account=credit,
        amount=amount,
        code=code,
        reason=f"{day:%Y-%m-%d} 清算日{words}",
    )


def _save_file(day: date, data: bytes, manifest: bytes) -> None:
    folder = settlement_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = files.file_name(day)
    (folder / name).write_bytes(data)
    (folder / name.replace(".txt", ".manifest.json")).write_bytes(manifest)


def _record(
    day: date,
    actor: Actor,
    merchants: dict[str, PartyTotals],
    banks: dict[str, PartyTotals],
    settle: list[files.SettlementLine],
    data: bytes,
) -> tuple[ClearingDay, list[ClearingLine]]:
    lines = [_line(day, "merchant", merchants[s.merchant], s.fee_fen, s.settle_fen) for s in settle]
    lines += [_line(day, "bank", t, 0, t.net_fen) for t in banks.values()]
    row = ClearingDay(
        day=day,
        cutoff=get_settings().pay_cutoff,
        pay_count=sum(t.pay_count for t in banks.values()),
        pay_fen=sum(t.pay_fen for t in banks.values()),
        refund_count=sum(t.refund_count for t in banks.values()),
        refund_fen=sum(t.refund_fen for t in banks.values()),
        fee_fen=sum(s.fee_fen for s in settle),
        settled_fen=sum(s.settle_fen for s in settle),
        file_name=files.file_name(day),
        file_sm3=sm3(data).hex(),
        run_by=actor.id,
        run_at=utcnow(),
    )
    return row, lines


def _line(day: date, kind: str, t: PartyTotals, fee: int, net: int) -> ClearingLine:
    return ClearingLine(
        day=day,
        party_kind=kind,
        party=t.party,
        pay_count=t.pay_count,
        pay_fen=t.pay_fen,
        refund_count=t.refund_count,
        refund_fen=t.refund_fen,
        fee_fen=fee,
        net_fen=net,
    )


def _out(row: ClearingDay, lines: list[ClearingLine]) -> ClearingDayOut:
    outs = [ClearingLineOut.model_validate(line, from_attributes=True) for line in lines]
    return ClearingDayOut(
        **ClearingDaySummary.model_validate(row, from_attributes=True).model_dump(),
        refund_count=row.refund_count,
        cutoff=row.cutoff,
        file_name=row.file_name,
        file_sm3=row.file_sm3,
        run_by=row.run_by,
        merchants=[o for o in outs if o.party_kind == "merchant"],
        banks=[o for o in outs if o.party_kind == "bank"],
    )


def find_day(session: Session, *, day: date) -> ClearingDayOut | None:
    """A cleared day, or None (for reports of the other payments parts)."""
    row = repository.day(session, day)
    return _out(row, repository.lines(session, day)) if row is not None else None


def get_day(session: Session, *, day: date, actor: Actor) -> ClearingDayOut:
    """A cleared day with its merchants' settlement and banks' positions."""
    check_scope(actor)
    row = repository.day(session, day)
    if row is None:
        raise DayNotCleared(f"清算日 {day} 尚未清算")
    return _out(row, repository.lines(session, day))


def list_days(
    session: Session, *, start: date, end: date, actor: Actor
) -> list[ClearingDaySummary]:
    """Cleared days in a range, newest first."""
    check_scope(actor)
    return [
        ClearingDaySummary.model_validate(r, from_attributes=True)
        for r in repository.days(session, start, end)
    ]


def settlement_file(session: Session, *, day: date, actor: Actor) -> tuple[str, bytes]:
    """The settlement file of a cleared day (its name and bytes)."""
    row = repository.day(session, day)
    check_scope(actor)
    if row is None or not (settlement_dir() / row.file_name).exists():
        raise DayNotCleared(f"清算日 {day} 没有结算文件")
    return row.file_name, (settlement_dir() / row.file_name).read_bytes()


def run_due(session: Session, *, now: datetime | None = None) -> int:
    """Worker step: clear the last day whose cut-off has passed, if not yet cleared."""
    day = rules.clearing_day(now or utcnow(), cutoff()) - timedelta(days=1)
    if repository.day(session, day) is not None:
        return 0
    run_day(session, day=day, actor=SYSTEM)
    return 1
