"""Audit use cases: append records to the chain, search, verify, anchor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from sscard.audit import chain, repository
from sscard.audit.models import AuditEntry
from sscard.audit.repository import EntryFilter
from sscard.audit.schemas import AuditEntryOut, AuditPage, ChainReport
from sscard.db import utcnow
from sscard.kit import access
from sscard.kit.access import AccessRecord
from sscard.kit.masking import mask_text

__all__ = ["EntryFilter", "append", "search", "verify_chain", "register_subscribers"]


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


def append(session: Session, records: list[AccessRecord]) -> list[AuditEntry]:
    """Append records to the chain inside the caller's transaction (head row locked)."""
    if not records:
        return []
    head = repository.lock_head(session)
    prev, seq = head.entry_hash, head.seq
    entries = []
    for rec in records:
        seq += 1
        values = _entry_values(rec, seq)
        digest = chain.entry_hash(prev, values)
        entries.append(AuditEntry(**values, prev_hash=prev, entry_hash=digest))
        prev = digest
    session.add_all(entries)
    head.seq, head.entry_hash, head.updated_at = seq, prev, utcnow()
    return entries


def search(session: Session, flt: EntryFilter, *, page: int = 1, page_size: int = 50) -> AuditPage:
    """One page of entries matching the filter, newest first."""
    rows, total = repository.search(session, flt, offset=(page - 1) * page_size, limit=page_size)
    items = [AuditEntryOut.model_validate(row) for row in rows]
    return AuditPage(items=items, total=total, page=page, page_size=page_size)


def verify_chain(session: Session) -> ChainReport:
    """Recompute the whole chain and report the first broken entry, if any."""
    head = repository.get_head(session)
    head_view = {"seq": head.seq, "entry_hash": head.entry_hash} if head else None
    counted = 0

    def counting() -> Iterator[dict[str, Any]]:
        nonlocal counted
        for entry in repository.iter_chain(session):
            counted += 1
            yield entry

    broken = chain.verify(counting(), head=head_view)
    return ChainReport(
        ok=broken is None,
        entries=counted,
        head_seq=head.seq if head else 0,
        head_hash=head.entry_hash if head else chain.GENESIS,
        broken_seq=broken.seq if broken else None,
        broken_entry_id=broken.entry_id if broken else None,
        reason=broken.reason if broken else None,
    )


def head(session: Session) -> tuple[int, str]:
    """The chain tip (sequence number and hash) for keeping outside the database."""
    tip = repository.get_head(session)
    return (tip.seq, tip.entry_hash) if tip else (0, chain.GENESIS)


def _write_pending(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()
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
