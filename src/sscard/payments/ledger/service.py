"""The ledger's use cases: open accounts, make transfers (linked, two-phase, reversed), read.

Other payments services post through :func:`post_transfers`; operators only read. Writing
takes the accounts' row locks in id order first (``SELECT ... FOR UPDATE``), then checks
every rule in Python (``rules.py``) against the locked totals, then inserts the transfers
in one savepoint: the database's triggers apply them to the totals, and its CHECK
constraints refuse an overdraw even if a check here were wrong.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.errors import FieldProblem, ValidationFailed
from sscard.iam import service as iam_service
from sscard.kit.context import Actor, ActorKind
from sscard.payments.ledger import repository, rules
from sscard.payments.ledger.errors import (
    AccountExists,
    AccountNotFound,
    LedgerOutOfScope,
    RefReused,
    TransferNotFound,
    TransferRefused,
)
from sscard.payments.ledger.models import LedgerAccount, LedgerTransfer
from sscard.payments.ledger.rules import AccountState, PendingFacts, Totals, TransferKind
from sscard.payments.ledger.schemas import (
    AccountIn,
    AccountOut,
    AccountPage,
    TransferIn,
    TransferOut,
    TransferPage,
)

EXPIRE_BATCH = 500
STREAM_CHUNK = 10_000

# ---- accounts ------------------------------------------------------------------------


def open_account(session: Session, *, data: AccountIn) -> LedgerAccount:
    """Open the account ``data.code`` (or find it, if it is already open with these flags)."""
    kind = rules.kind_of_code(data.code)
    if kind is None:
        raise ValidationFailed([FieldProblem("code", f"账户代码 {data.code} 格式不正确")])
    no_overdraw = data.debits_must_not_exceed_credits
    if no_overdraw is None:
        no_overdraw = kind in rules.OWNED_BY_HOLDERS and not data.credits_must_not_exceed_debits
    if no_overdraw and data.credits_must_not_exceed_debits:
        raise ValidationFailed([FieldProblem("flags", "两个限额标志不能同时设置")])
    found = repository.account(session, data.code)
    if found is not None:
        if (
            found.currency,
            found.debits_must_not_exceed_credits,
            found.credits_must_not_exceed_debits,
        ) != (data.currency, no_overdraw, data.credits_must_not_exceed_debits):
            raise AccountExists(f"账户 {data.code} 已存在，且币种或限额标志不同")
        return found
    row = LedgerAccount(
        code=data.code,
        kind=kind.value,
        currency=data.currency,
        debits_must_not_exceed_credits=no_overdraw,
        credits_must_not_exceed_debits=data.credits_must_not_exceed_debits,
        debits_pending=0,
        debits_posted=0,
        credits_pending=0,
        credits_posted=0,
        created_at=utcnow(),
    )
    repository.add(session, [row])
    return row


def unopened(session: Session, codes: Sequence[str]) -> list[str]:
    """The codes among ``codes`` with no account yet, in their order (one query)."""
    found = repository.open_codes(session, set(codes))
    return [code for code in codes if code not in found]


def _state(row: LedgerAccount) -> AccountState:
    return AccountState(
        id=row.id,
        code=row.code,
        currency=row.currency,
        debits_must_not_exceed_credits=row.debits_must_not_exceed_credits,
        credits_must_not_exceed_debits=row.credits_must_not_exceed_debits,
        totals=Totals(
            row.debits_pending, row.debits_posted, row.credits_pending, row.credits_posted
        ),
    )


# ---- transfers -----------------------------------------------------------------------


@dataclass
class _Chain:
    """A linked chain being planned: the locked accounts as the chain would leave them."""

    now: datetime
    rows: dict[str, LedgerAccount]
    accounts: dict[str, AccountState]
    existing: dict[str, LedgerTransfer]
    pendings: dict[str, PendingFacts]
    reversible: dict[str, LedgerTransfer]
    ids: dict[str, int]
    """Every transfer the chain names that already exists: its id by reference."""
    reversed: set[str] = field(default_factory=set)
    new: dict[str, LedgerTransfer] = field(default_factory=dict)
    pending_rows: dict[str, LedgerTransfer] = field(default_factory=dict)


def post_transfer(session: Session, *, transfer: TransferIn) -> LedgerTransfer:
    """Make one transfer (or find it, on a retry with the same reference and content)."""
    return post_transfers(session, transfers=[transfer])[0]


def post_transfers(session: Session, *, transfers: Sequence[TransferIn]) -> list[LedgerTransfer]:
    """Make a linked chain of transfers: every one of them, or (raising) none."""
    _refs_unique(transfers)
    chain = _lock_and_load(session, transfers)
    made = [_plan(chain, index, t) for index, t in enumerate(transfers)]
    fresh = [row for row in made if row.ref in chain.new]
    if fresh:
        _insert(session, fresh, locked=chain.rows.values())
    return made


def reverse_transfer(
    session: Session, *, ref: str, reversal_ref: str, reason: str
) -> LedgerTransfer:
    """Undo a posted transfer with a new one in the other direction (冲正)."""
    original = repository.transfers_by_refs(session, [ref]).get(ref)
    if original is None:
        raise TransferNotFound(f"转账 {ref} 不存在")
    codes = repository.codes_of(session, [original.debit_account_id, original.credit_account_id])
    reversal = TransferIn(
        ref=reversal_ref,
        debit_account=codes[original.credit_account_id],
        credit_account=codes[original.debit_account_id],
        amount=original.amount,
        code="reversal",
        reason=reason[:200],
        reverses_ref=ref,
    )
    return post_transfer(session, transfer=reversal)


def void_expired(session: Session, *, now: datetime | None = None) -> int:
    """Void pending transfers past their timeout (a worker chore); how many were voided."""
    expired = repository.expired_pending(session, now or utcnow(), EXPIRE_BATCH)
    if not expired:
        return 0
    codes = repository.codes_of(
        session, {t.debit_account_id for t in expired} | {t.credit_account_id for t in expired}
    )
    voids = [
        TransferIn(
            ref=f"timeout:{t.id}",
            debit_account=codes[t.debit_account_id],
            credit_account=codes[t.credit_account_id],
            amount=t.amount,
            code="timeout",
            reason=f"待定转账 {t.ref} 超时自动撤销"[:200],
            kind=TransferKind.void_pending,
            pending_ref=t.ref,
        )
        for t in expired
    ]
    return len(post_transfers(session, transfers=voids))


def _refs_unique(transfers: Sequence[TransferIn]) -> None:
    if not transfers:
        raise ValidationFailed([FieldProblem("transfers", "至少需要一笔转账")])
    seen: set[str] = set()
    for index, transfer in enumerate(transfers):
        if transfer.ref in seen:
            raise ValidationFailed([FieldProblem(f"transfers[{index}].ref", "同一批中参考号重复")])
        seen.add(transfer.ref)


def _lock_and_load(session: Session, transfers: Sequence[TransferIn]) -> _Chain:
    """Lock the chain's accounts, then read what the rules need under those locks."""
    codes = {t.debit_account for t in transfers} | {t.credit_account for t in transfers}
    locked = repository.lock_accounts(session, codes)
    missing = sorted(codes - locked.keys())
    if missing:
        raise AccountNotFound(f"账户 {missing[0]} 不存在")
    refs = {t.ref for t in transfers}
    wanted = {t.pending_ref for t in transfers if t.pending_ref} - refs
    earlier = {t.reverses_ref for t in transfers if t.reverses_ref} - refs
    found = repository.transfers_by_refs(session, refs | wanted | earlier)
    pending_rows = [found[r] for r in wanted if r in found and found[r].kind == "pending"]
    settled = repository.resolved(session, [p.id for p in pending_rows], column="pending_id")
    reversible = {r: found[r] for r in earlier if r in found}
    reversed_ids = repository.resolved(
        session, [t.id for t in reversible.values()], column="reverses_id"
    )
    return _Chain(
        now=utcnow(),
        rows=locked,
        accounts={code: _state(row) for code, row in locked.items()},
        existing={r: found[r] for r in refs if r in found},
        pendings={p.ref: _pending_facts(p, p.id in settled) for p in pending_rows},
        reversible={r: t for r, t in reversible.items() if t.id not in reversed_ids},
        ids={r: t.id for r, t in found.items()},
    )


def _pending_facts(row: LedgerTransfer, resolved: bool) -> PendingFacts:
    return PendingFacts(
        id=row.id,
        ref=row.ref,
        debit_account_id=row.debit_account_id,
        credit_account_id=row.credit_account_id,
        amount=row.amount,
        expires_at=row.expires_at,
        resolved=resolved,
    )


def _plan(chain: _Chain, index: int, t: TransferIn) -> LedgerTransfer:
    """Check one transfer against the chain so far; the row to insert (or the existing one)."""
    debit, credit = chain.accounts[t.debit_account], chain.accounts[t.credit_account]
    existing = chain.existing.get(t.ref)
    if existing is not None:
        return _same_or_refused(chain, existing, t, debit.id, credit.id)
    problem = rules.transfer_problem(debit, credit, t.amount)
    pending_amount, pending = _resolution(chain, t, debit.id, credit.id)
    problem = problem or pending
    for_debit, for_credit = rules.effect(t.kind, t.amount, pending_amount)
    debit = rules.applied(debit, for_debit)
    credit = rules.applied(chain.accounts[t.credit_account], for_credit)
    problem = (
        problem
        or rules.overdraw_reason(debit, debit.totals)
        or rules.overdraw_reason(credit, credit.totals)
    )
    if problem is None and t.reverses_ref is not None:
        problem = _reversal_problem(chain, t, debit.id, credit.id)
    if problem is not None:
        raise TransferRefused(f"第 {index + 1} 笔转账（{t.ref}）被拒绝：{problem}", index=index)
    chain.accounts[t.debit_account], chain.accounts[t.credit_account] = debit, credit
    return _row(chain, t, debit.id, credit.id)


def _resolution(
    chain: _Chain, t: TransferIn, debit_id: int, credit_id: int
) -> tuple[int, str | None]:
    """For a post or void: the pending amount it releases, and why it cannot be made."""
    if t.kind not in rules.RESOLUTIONS:
        return 0, "只有待定转账的入账或撤销才能引用待定转账" if t.pending_ref else None
    pending = chain.pendings.get(t.pending_ref or "")
    if pending is None:
        return 0, f"待定转账 {t.pending_ref or '（未填写）'} 不存在"
    problem = rules.resolution_problem(
        t.kind,
        pending,
        debit_account_id=debit_id,
        credit_account_id=credit_id,
        amount=t.amount,
        now=chain.now,
    )
    if problem is None:
        chain.pendings[pending.ref] = replace(pending, resolved=True)
    return pending.amount, problem


def _reversal_problem(chain: _Chain, t: TransferIn, debit_id: int, credit_id: int) -> str | None:
    original = chain.reversible.get(t.reverses_ref or "")
    if original is None or original.ref in chain.reversed:
        return f"转账 {t.reverses_ref} 不存在或已冲正"
    if original.kind not in (TransferKind.posted, TransferKind.post_pending):
        return f"转账 {t.reverses_ref} 不是已入账的转账"
    if t.kind is not TransferKind.posted or (debit_id, credit_id) != (
        original.credit_account_id,
        original.debit_account_id,
    ):
        return "冲正必须是立即入账、借贷方向与原转账相反"
    if t.amount > original.amount:
        return "冲正金额超过原转账金额"
    chain.reversed.add(original.ref)
    return None


def _row(chain: _Chain, t: TransferIn, debit_id: int, credit_id: int) -> LedgerTransfer:
    row = LedgerTransfer(
        ref=t.ref,
        kind=t.kind.value,
        debit_account_id=debit_id,
        credit_account_id=credit_id,
        amount=t.amount,
        code=t.code,
        reason=t.reason,
        expires_at=(
            chain.now + timedelta(seconds=t.timeout_seconds)
            if t.timeout_seconds and t.kind is TransferKind.pending
            else None
        ),
        created_at=chain.now,
    )
    if t.pending_ref in chain.pending_rows:
        row.pending = chain.pending_rows[t.pending_ref]
    elif t.pending_ref is not None:
        row.pending_id = chain.pendings[t.pending_ref].id
    if t.reverses_ref is not None:
        row.reverses_id = chain.reversible[t.reverses_ref].id
    if t.kind is TransferKind.pending:
        chain.pending_rows[t.ref] = row
        chain.pendings[t.ref] = PendingFacts(0, t.ref, debit_id, credit_id, t.amount, None, False)
    chain.new[t.ref] = row
    return row


def _same_or_refused(
    chain: _Chain, row: LedgerTransfer, t: TransferIn, debit_id: int, credit_id: int
) -> LedgerTransfer:
    """An idempotent retry answers with the transfer made; other content is refused."""
    same = (row.kind, row.debit_account_id, row.credit_account_id, row.amount, row.code) == (
        t.kind.value,
        debit_id,
        credit_id,
        t.amount,
        t.code,
    ) and (row.reason, row.pending_id, row.reverses_id) == (
        t.reason,
        chain.ids.get(t.pending_ref or ""),
        chain.ids.get(t.reverses_ref or ""),
    )
    if not same:
        raise RefReused(f"参考号 {t.ref} 已用于另一笔内容不同的转账")
    return row


def _insert(
    session: Session, rows: list[LedgerTransfer], *, locked: Collection[LedgerAccount]
) -> None:
    """Insert the chain in one savepoint; a refusal by the database undoes all of it."""
    try:
        with session.begin_nested():
            repository.add(session, rows)
    except IntegrityError as exc:
        refs = [r.ref for r in rows]
        existing = repository.transfers_by_refs(session, refs)
        if existing:
            raise RefReused(f"参考号 {sorted(existing)[0]} 已被另一笔转账使用") from exc
        raise TransferRefused("数据库拒绝了这组转账（余额或待定转账不一致）") from exc
    finally:
        repository.refresh(session, locked)


# ---- reading -------------------------------------------------------------------------


def posted_flows(session: Session, *, ref_prefix: str) -> list[tuple[str, str, int]]:
    """Money posted between each pair of accounts by the transfers of one part of the
    platform (their references start with ``ref_prefix``): (debit, credit, fen)."""
    return repository.posted_flows(session, ref_prefix)


def _in_scope(actor: Actor) -> None:
    """The ledger is the platform's books: only the platform's own operators read it."""
    if actor.kind is ActorKind.system:
        return
    if actor.kind is not ActorKind.operator or (
        actor.institution_code != iam_service.PLATFORM_INSTITUTION
    ):
        raise LedgerOutOfScope


def account_out(row: LedgerAccount) -> AccountOut:
    return AccountOut(
        code=row.code,
        kind=row.kind,
        currency=row.currency,
        debits_must_not_exceed_credits=row.debits_must_not_exceed_credits,
        credits_must_not_exceed_debits=row.credits_must_not_exceed_debits,
        debits_pending=row.debits_pending,
        debits_posted=row.debits_posted,
        credits_pending=row.credits_pending,
        credits_posted=row.credits_posted,
        balance=row.credits_posted - row.debits_posted,
        available=row.credits_posted - row.debits_posted - row.debits_pending,
        created_at=row.created_at,
    )


def transfers_out(session: Session, rows: Sequence[LedgerTransfer]) -> list[TransferOut]:
    """Transfers as operators read them: accounts and linked transfers by their codes."""
    codes = repository.codes_of(
        session, {r.debit_account_id for r in rows} | {r.credit_account_id for r in rows}
    )
    linked = {r.pending_id for r in rows if r.pending_id} | {
        r.reverses_id for r in rows if r.reverses_id
    }
    refs = repository.refs_of(session, {i for i in linked if i is not None})
    return [
        TransferOut(
            ref=r.ref,
            kind=TransferKind(r.kind),
            debit_account=codes[r.debit_account_id],
            credit_account=codes[r.credit_account_id],
            amount=r.amount,
            code=r.code,
            reason=r.reason,
            pending_ref=refs.get(r.pending_id) if r.pending_id else None,
            reverses_ref=refs.get(r.reverses_id) if r.reverses_id else None,
            expires_at=r.expires_at,
            created_at=r.created_at,
        )
        for r in rows
    ]


def get_account(session: Session, *, code: str, actor: Actor) -> AccountOut:
    """One account with its totals, balance and what is still available."""
    _in_scope(actor)
    row = repository.account(session, code)
    if row is None:
        raise AccountNotFound(f"账户 {code} 不存在")
    return account_out(row)


def list_accounts(
    session: Session, *, actor: Actor, kind: str | None, page: int, page_size: int
) -> AccountPage:
    """Accounts by code, optionally of one kind."""
    _in_scope(actor)
    rows, total = repository.accounts(session, kind, (page - 1) * page_size, page_size)
    return AccountPage(items=[account_out(r) for r in rows], total=total)


def list_transfers(
    session: Session, *, actor: Actor, account: str, page: int, page_size: int
) -> TransferPage:
    """An account's transfers, newest first."""
    _in_scope(actor)
    row = repository.account(session, account)
    if row is None:
        raise AccountNotFound(f"账户 {account} 不存在")
    rows, total = repository.transfers_of(session, row.id, (page - 1) * page_size, page_size)
    return TransferPage(items=transfers_out(session, rows), total=total)


def get_transfer(session: Session, *, ref: str, actor: Actor) -> TransferOut:
    """One transfer by its reference."""
    _in_scope(actor)
    row = repository.transfers_by_refs(session, [ref]).get(ref)
    if row is None:
        raise TransferNotFound(f"转账 {ref} 不存在")
    return transfers_out(session, [row])[0]


def movements(
    session: Session, *, codes: Collection[str], start: datetime, end: datetime
) -> Iterator[repository.MovementRow]:
    """Transfers for ``codes`` (payment, refund ...) made in ``[start, end)``, streamed in
    ledger order as (ref, kind, debit code, credit code, amount): what clearing and
    reconciliation read."""
    return repository.stream_movements(session, codes, start, end, STREAM_CHUNK)
