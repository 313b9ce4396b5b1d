"""One mechanism that records reads and writes of personal data for the audit log.

Mapped classes holding personal data mix in :class:`PersonalData` and name their personal
fields. Session hooks then note, without any code in routes or services:

- a *write* when such an object is inserted, changed (the personal fields that changed)
  or deleted, at flush time;
- a *read* when such an object is loaded from the database.

Services add explicit records for what the ORM cannot see (an unmasking with a purpose, a
login, a file export) with :func:`record`. The records wait in ``session.info`` and are
written by the audit component when the transaction commits, hash-chained, in the same
transaction. Records flagged ``keep_on_failure`` survive a rollback (see
``sscard.db.after_rollback``). Field *names* are recorded, never values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.kit import context

PENDING = "sscard.access.pending"
SUPPRESSED = "sscard.access.suppressed"


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One fact for the audit log. ``subject_display`` is always masked."""

    action: str
    subject_type: str | None = None
    subject_id: str | None = None
    subject_display: str | None = None
    fields: tuple[str, ...] = ()
    outcome: str = "success"
    purpose: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    occurred_at: datetime = field(default_factory=utcnow)
    ctx: context.AccessContext = field(default_factory=context.current)


class PersonalData:
    """Mixin for mapped classes whose rows describe a person."""

    __audit_type__: ClassVar[str] = ""
    """Subject type in the audit log, e.g. ``person``."""
    __personal_fields__: ClassVar[tuple[str, ...]] = ()
    """Attribute names that hold personal data."""

    def audit_subject(self) -> tuple[str, str]:
        """(stable subject id, masked display) for the audit log."""
        raise NotImplementedError


def record(session: Session, rec: AccessRecord, *, keep_on_failure: bool = False) -> None:
    """Queue ``rec`` for the audit log of this unit of work."""
    session.info.setdefault(PENDING, []).append(rec)
    if keep_on_failure:
        from sscard import db

        db.after_rollback(session, lambda fresh: record(fresh, rec))


def pending(session: Session) -> list[AccessRecord]:
    return list(session.info.get(PENDING, []))


def drain(session: Session) -> list[AccessRecord]:
    """Take the queued records (the audit writer calls this before commit)."""
    records: list[AccessRecord] = session.info.pop(PENDING, [])
    return records


class suppress_reads:  # noqa: N801 - used as a context manager
    """Do not record ORM loads inside the block (internal look-ups that show nothing)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __enter__(self) -> None:
        self.session.info[SUPPRESSED] = self.session.info.get(SUPPRESSED, 0) + 1

    def __exit__(self, *_: object) -> None:
        self.session.info[SUPPRESSED] -= 1


def field_name(attribute: str) -> str:
    """The field an attribute holds, as the audit log names it (``name_enc`` -> ``name``)."""
    return attribute.removesuffix("_enc")


def _changed_fields(obj: PersonalData) -> tuple[str, ...]:
    state = inspect(obj)
    return tuple(
        field_name(name)
        for name in obj.__personal_fields__
        if state.attrs[name].history.has_changes()
    )


def _writes(session: Session, objects: Iterable[Any], verb: str) -> None:
    for obj in objects:
        if not isinstance(obj, PersonalData):
            continue
        if verb == "update":
            fields = _changed_fields(obj)
        else:
            fields = tuple(field_name(n) for n in obj.__personal_fields__)
        if verb == "update" and not fields:
            continue
        subject_id, display = obj.audit_subject()
        record(
            session,
            AccessRecord(
                action=f"{obj.__audit_type__}.{verb}",
                subject_type=obj.__audit_type__,
                subject_id=subject_id,
                subject_display=display,
                fields=tuple(fields),
            ),
        )


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    _writes(session, session.new, "create")
    _writes(session, session.dirty, "update")
    _writes(session, session.deleted, "delete")


def _loaded(session: Session, obj: Any) -> None:
    if not isinstance(obj, PersonalData) or session.info.get(SUPPRESSED):
        return
    subject_id, display = obj.audit_subject()
    record(
        session,
        AccessRecord(
            action=f"{obj.__audit_type__}.read",
            subject_type=obj.__audit_type__,
            subject_id=subject_id,
            subject_display=display,
            fields=tuple(field_name(n) for n in obj.__personal_fields__),
        ),
    )


def _forget(session: Session, *_: Any) -> None:
    session.info.pop(PENDING, None)


_installed = False


def install() -> None:
    """Hook the recording into every SQLAlchemy session (idempotent)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "loaded_as_persistent", _loaded)
    event.listen(Session, "after_rollback", _forget)
    _installed = True


Writer = Callable[[Session, list[AccessRecord]], None]
