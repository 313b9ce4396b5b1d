"""Reconciliation use cases: import a daily file and match it, list the differences,
resolve them (four-eyes above ``SSCARD_RECON_FOUR_EYES_FEN``), report a day.

An import checks the whole file first (``dailyfile.read``), then matches it against our
books for its day (``matching.compare``) and records the differences; a refused file
records nothing. The same file imported again answers with the first import; another file
for the same day, source and party is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.kit import access
from sscard.kit.context import Actor
from sscard.payments.clearing import service as clearing_service
from sscard.payments.clearing.rules import Movement
from sscard.payments.ledger import service as ledger_service
from sscard.payments.ledger.schemas import AccountIn, TransferIn
from sscard.payments.recon import dailyfile, matching, repository
from sscard.payments.recon.adjust import adjustment
from sscard.payments.recon.errors import (
    DifferenceNotFound,
    DifferenceStateConflict,
    ImportConflict,
    SecondOperatorRequired,
)
from sscard.payments.recon.models import ReconDifference, ReconImport
from sscard.payments.recon.schemas import (
    STATE_NAMES,
    Action,
    DayReport,
    DifferenceOut,
    DifferencePage,
    DiffState,
    ImportOut,
    MerchantReportRow,
    ResolveIn,
)
from sscard.settings import get_settings


def _audit(session: Session, step: str, subject: str, **detail: object) -> None:
    access.record(
        session,
        access.AccessRecord(
            action=f"payments.recon.{step}",
            subject_type="recon",
            subject_id=subject,
            subject_display=subject,
            detail=dict(detail),
        ),
    )


def parse(data: bytes) -> dailyfile.Parsed:
    """The checked file, or a 422 naming the line at fault."""
    try:
        return dailyfile.read(data)
    except dailyfile.DailyFileRefused as refused:
        raise ValidationFailed(
            [FieldProblem("file", str(refused))], f"对账文件被拒绝：{refused}"
        ) from None


def _expected(source: str, party: str) -> Callable[[Movement], bool]:
    """Which of our movements the sender must list: a bank, its own; the acquirer lists only
    what reached it, which our books do not show, so its file is checked for what it lists."""
    if source == "bank":
        return lambda m: m.bank == party
    return lambda _m: False


def import_file(session: Session, *, data: bytes, actor: Actor) -> ImportOut:
    """Import a bank's or the acquirer's daily file and record its differences."""
    clearing_service.check_scope(actor)
    parsed = parse(data)
    h = parsed.header
    known = repository.import_of(session, h.day, h.source, h.party)
    if known is not None:
        return _imported_before(known, parsed.digest)
    ours = clearing_service.our_movements(session, day=h.day)
    found = list(matching.compare(ours, parsed.records(), expected=_expected(h.source, h.party)))
    now = utcnow()
    rows = [_difference(d, h, now) for d in found]
    with_theirs = sum(1 for d in found if d.theirs_status is not None)
    row = ReconImport(
        day=h.day,
        source=h.source,
        party=h.party,
        file_sm3=parsed.digest,
        lines=parsed.count,
        debit_fen=parsed.debit_fen,
        credit_fen=parsed.credit_fen,
        matched=parsed.count - with_theirs,
        differences=len(rows),
        imported_by=actor.id,
        imported_at=now,
    )
    try:
        with session.begin_nested():
            repository.add(session, [row, *rows])
    except IntegrityError:  # the same day's file imported by someone else meanwhile
        known = repository.import_of(session, h.day, h.source, h.party)
        if known is None:
            raise
        return _imported_before(known, parsed.digest)
    _audit(session, "import", f"{h.source}:{h.party}:{h.day:%Y%m%d}", differences=len(rows))
    return _import_out(row)


def _imported_before(known: ReconImport, digest: str) -> ImportOut:
    """The first import's answer for the same file; a different file for its day refused."""
    if known.file_sm3 == digest:
        return _import_out(known)
    raise ImportConflict(f"{known.day} {known.party} 的对账文件已导入过另一份，不能重复导入")


def _difference(d: matching.Difference, h: dailyfile.Header, now: datetime) -> ReconDifference:
    return ReconDifference(
        day=h.day,
        source=h.source,
        party=h.party,
        ref=d.key,
        kind=d.kind.value,
        direction=d.direction,
        merchant_code=d.merchant,
        bank_code=d.bank or (h.party if h.source == "bank" else None),
        ours_fen=d.ours_amount,
        theirs_fen=d.theirs_amount,
        ours_status=d.ours_status,
        theirs_status=d.theirs_status,
        state=DiffState.open.value,
        created_at=now,
    )


def _import_out(row: ReconImport) -> ImportOut:
    return ImportOut.model_validate(row, from_attributes=True)


def difference_out(row: ReconDifference) -> DifferenceOut:
    state = DiffState(row.state)
    return DifferenceOut(
        **{c: getattr(row, c) for c in _COLUMNS},
        kind_name=matching.DIFF_NAMES[matching.DiffKind(row.kind)],
        state=state,
        state_name=STATE_NAMES[state],
        needs_second_operator=state is DiffState.awaiting_approval,
    )


_COLUMNS = (
    "id day source party ref kind direction merchant_code bank_code ours_fen theirs_fen"
    " ours_status theirs_status action adjust_fen debit_account credit_account reason"
    " transfer_ref resolved_by resolved_at approved_by approved_at"
).split()


def list_differences(
    session: Session,
    *,
    actor: Actor,
    day: date | None,
    kind: str | None = None,
    state: str | None = None,
    source: str | None = None,
    merchant: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> DifferencePage:
    """Differences, filtered by day, kind, state, source and merchant."""
    clearing_service.check_scope(actor)
    filters = {"kind": kind, "state": state, "source": source, "merchant_code": merchant}
    rows, total = repository.differences(
        session, day=day, filters=filters, offset=(page - 1) * page_size, limit=page_size
    )
    return DifferencePage(items=[difference_out(r) for r in rows], total=total)


def _locked(session: Session, diff_id: int) -> ReconDifference:
    row = repository.difference(session, diff_id, lock=True)
    if row is None:
        raise DifferenceNotFound(f"差错 {diff_id} 不存在")
    return row


def resolve(session: Session, *, diff_id: int, data: ResolveIn, actor: Actor) -> DifferenceOut:
    """Resolve an open difference: adjust (post, or await a second operator) or accept."""
    clearing_service.check_scope(actor)
    row = _locked(session, diff_id)
    if row.state != DiffState.open:
        raise DifferenceStateConflict(
            f"差错 {diff_id} 当前为“{STATE_NAMES[DiffState(row.state)]}”，不能再处理"
        )
    row.action, row.reason = data.action.value, data.reason
    row.resolved_by, row.resolved_at = actor.id, utcnow()
    if data.action is Action.adjust:
        adj = adjustment(
            direction=row.direction,
            source=row.source,
            party=row.party,
            merchant=row.merchant_code,
            ours=(row.ours_fen, row.ours_status),
            theirs=(row.theirs_fen, row.theirs_status),
        )
        if adj is None:
            raise ValidationFailed(
                [FieldProblem("action", "该差错双方金额一致，无需调账，请选择“确认无需调账”")]
            )
        row.debit_account, row.credit_account = adj.debit_account, adj.credit_account
        row.adjust_fen = adj.amount
        if adj.amount > get_settings().recon_four_eyes_fen:
            row.state = DiffState.awaiting_approval.value
            _audit(session, "resolve", f"difference:{row.id}", action="adjust", awaiting=True)
            return difference_out(row)
        _post(session, row)
    row.state = DiffState.resolved.value
    _audit(session, "resolve", f"difference:{row.id}", action=data.action.value)
    return difference_out(row)


def approve(session: Session, *, diff_id: int, actor: Actor) -> DifferenceOut:
    """The second operator confirms an adjustment above the limit; it is posted then."""
    clearing_service.check_scope(actor)
    row = _locked(session, diff_id)
    if row.state != DiffState.awaiting_approval:
        raise DifferenceStateConflict(f"差错 {diff_id} 不在待复核状态")
    if row.resolved_by == actor.id:
        raise SecondOperatorRequired("超过限额的调账须由另一位操作员复核，经办人不能复核自己的处理")
    row.approved_by, row.approved_at = actor.id, utcnow()
    _post(session, row)
    row.state = DiffState.resolved.value
    _audit(session, "approve", f"difference:{row.id}", amount=row.adjust_fen)
    return difference_out(row)


def _post(session: Session, row: ReconDifference) -> None:
    assert row.debit_account and row.credit_account and row.adjust_fen  # noqa: S101
    for code in (row.debit_account, row.credit_account):
        ledger_service.open_account(session, data=AccountIn(code=code))
    row.transfer_ref = f"rcn:{row.id}"
    ledger_service.post_transfer(
        session,
        transfer=TransferIn(
            ref=row.transfer_ref,
            debit_account=row.debit_account,
            credit_account=row.credit_account,
            amount=row.adjust_fen,
            code="adjustment",
            reason=f"对账调账 {row.ref}：{row.reason or ''}"[:200],
        ),
    )


def day_report(session: Session, *, day: date, actor: Actor) -> DayReport:
    """A day: imported files, per merchant figures with differences, differences by kind."""
    clearing_service.check_scope(actor)
    cleared = clearing_service.find_day(session, day=day)
    diffs = repository.counts_by_merchant(session, day)
    rows = []
    for line in cleared.merchants if cleared else []:
        n, still = diffs.pop(line.party, (0, 0))
        rows.append(
            MerchantReportRow(
                merchant_code=line.party,
                pay_count=line.pay_count,
                pay_fen=line.pay_fen,
                refund_count=line.refund_count,
                refund_fen=line.refund_fen,
                fee_fen=line.fee_fen,
                net_fen=line.net_fen,
                differences=n,
                open_differences=still,
            )
        )
    for code, (n, still) in sorted(diffs.items()):
        rows.append(
            MerchantReportRow(
                merchant_code=code or "（未知）",
                pay_count=0,
                pay_fen=0,
                refund_count=0,
                refund_fen=0,
                fee_fen=0,
                net_fen=0,
                differences=n,
                open_differences=still,
            )
        )
    return DayReport(
        day=day,
        cleared=cleared is not None,
        imports=[_import_out(r) for r in repository.imports(session, day)],
        merchants=rows,
        differences_by_kind=repository.counts_by_kind(session, day),
    )


def recent_days(session: Session, *, actor: Actor, limit: int = 30) -> list[date]:
    """Days with an imported file, newest first."""
    clearing_service.check_scope(actor)
    return repository.recent_days(session, limit)
