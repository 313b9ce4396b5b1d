"""Audit use cases: append records to the chain, search, verify, anchor."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from sscard.audit import chain as chain_rules
from sscard.audit import repository
from sscard.audit.schemas import AuditEntryOut, AuditPage, ChainReport, EntryFilter
from sscard.crypto import primitives
from sscard.db import utcnow
from sscard.kit import access
from sscard.kit.access import AccessRecord
from sscard.kit.masking import mask_text
from sscard.settings import get_settings


def _entry_values(rec: AccessRecord, seq: int) -> dict[str, object]:
    actor = rec.ctx.actor
    return {
        "seq": seq,
        "occurred_at": rec.occurred_at,
        "recorded_at": utcnow(),
        "actor_kind": actor.kind.value,
        "actor_id": actor.id,
        "actor_name": actor.name,
        "institution_code": actor.institution_code,
        "action": rec.action,
        "subject_type": rec.subject_type,
        "subject_id": rec.subject_id,
        "subject_display": rec.subject_display,
        "fields": list(rec.fields),
        "purpose": rec.purpose or rec.ctx.purpose,
        "request_id": rec.ctx.request_id,
        "client_ip": rec.ctx.client_ip,
        "channel": rec.ctx.channel,
        "outcome": rec.outcome,
        "detail": {k: mask_text(v) if isinstance(v, str) else v for k, v in rec.detail.items()},
    }


def chain_count() -> int:
    """How many parallel chains appends spread over (1 on SQLite, 16 on PostgreSQL by default)."""
    settings = get_settings()
    if settings.audit_chains > 0:
        return settings.audit_chains
    return 1 if settings.is_sqlite else 16


def _chain_of_this_thread() -> int:
    """Each worker thread keeps to one chain, so concurrent units of work rarely wait on the
    same head row (threads outnumbering chains share them)."""
    return hash((os.getpid(), threading.get_ident())) % chain_count() + 1


def append(session: Session, records: list[AccessRecord], *, chain: int | None = None) -> int:
    """Append records to one chain inside the caller's transaction (its head row locked)."""
    if not records:
        return 0
    chain = chain or _chain_of_this_thread()
    seq, prev = repository.lock_head(session, chain)
    rows = []
    for rec in records:
        seq += 1
        values = _entry_values(rec, seq)
        digest = chain_rules.entry_hash(prev, values)
        rows.append({**values, "chain": chain, "prev_hash": prev, "entry_hash": digest})
        prev = digest
    repository.insert_entries(session, rows)
    repository.set_head(session, chain, seq, prev)
    return len(rows)


def search(session: Session, flt: EntryFilter, *, page: int = 1, page_size: int = 50) -> AuditPage:
    """One page of entries matching the filter, newest first."""
    rows, total = repository.search(session, flt, offset=(page - 1) * page_size, limit=page_size)
    items = [AuditEntryOut.model_validate(row) for row in rows]
    return AuditPage(items=items, total=total, page=page, page_size=page_size)


def verify_chain(session: Session) -> ChainReport:
    """Recompute every chain and report the first broken entry, if any."""
    heads = {h.id: h for h in repository.heads(session)}
    counted = 0
    for number in sorted(set(heads) | set(repository.chains_with_entries(session))):
        tip = heads.get(number)
        view = {"seq": tip.seq, "entry_hash": tip.entry_hash} if tip else None
        broken, seen = _verify_one(session, number, view)
        counted += seen
        if broken is not None:
            return ChainReport(
                ok=False,
                entries=counted,
                chains=len(heads),
                head_seq=tip.seq if tip else 0,
                head_hash=tip.entry_hash if tip else chain_rules.GENESIS,
                broken_chain=number,
                broken_seq=broken.seq,
                broken_entry_id=broken.entry_id,
                reason=broken.reason,
            )
    total_seq = sum(h.seq for h in heads.values())
    return ChainReport(
        ok=True,
        entries=counted,
        chains=len(heads),
        head_seq=total_seq,
        head_hash=_tips_digest(heads),
    )


def _verify_one(
    session: Session, number: int, view: dict[str, Any] | None
) -> tuple[chain_rules.Break | None, int]:
    counted = 0

    def counting() -> Iterator[dict[str, Any]]:
        nonlocal counted
        for entry in repository.iter_chain(session, number):
            counted += 1
            yield entry

    return chain_rules.verify(counting(), head=view), counted


def _tips_digest(heads: dict[int, Any]) -> str:
    joined = "|".join(f"{n}:{h.seq}:{h.entry_hash}" for n, h in sorted(heads.items()))
    return primitives.sm3(joined.encode()).hex() if heads else chain_rules.GENESIS


def head(session: Session) -> list[tuple[int, int, str]]:
    """Every chain's tip (chain, sequence number, hash) for keeping outside the database."""
    return [(h.id, h.seq, h.entry_hash) for h in repository.heads(session)]


def _write_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint is released: the records wait for the real commit
    if session.new or session.dirty or session.deleted:
        session.flush()
    if session.info.get(access.PENDING):
        append(session, access.drain(session))


_registered = False


def register_subscribers() -> None:
    """Record personal-data access on every session and write it when the session commits."""
    global _registered
    if _registered:
        return
    access.install()
    event.listen(Session, "before_commit", _write_pending)
    _registered = True


def subject_history(
    session: Session,
    *,
    subject_type: str,
    subject_id: str,
    exclude_actor_id: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> AuditPage:
    """Entries about one subject, newest first, optionally without one actor's own acts
    (a resident asking who accessed their data leaves out what they did themselves)."""
    rows, total = repository.subject_entries(
        session,
        subject_type=subject_type,
        subject_id=subject_id,
        exclude_actor_id=exclude_actor_id,
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    items = [AuditEntryOut.model_validate(row) for row in rows]
    return AuditPage(items=items, total=total, page=page, page_size=page_size)
