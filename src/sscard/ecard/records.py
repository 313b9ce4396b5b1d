"""What the e-card writes down about its use: usage rows (one per verification, login,
authorisation, scan login) and audit records whose subject is the holder, displayed by the
holder's masked identity (cached in :mod:`sscard.ecard.caches`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from sscard import db
from sscard.db import utcnow
from sscard.ecard import caches, repository
from sscard.ecard.models import Usage
from sscard.kit import access
from sscard.kit.access import AccessRecord
from sscard.registry.persons import service as registry_service


def holder_brief(session: Session, person_id: str) -> registry_service.HolderBrief:
    """The holder's masked details (cached for half a minute)."""
    return caches.HOLDER_BRIEFS.get_or_load(
        person_id, lambda: registry_service.holder_brief(session, person_id=person_id)
    )


def record_usage(
    session: Session,
    *,
    ecard_id: str | None,
    copy_id: int | None,
    kind: str,
    business: int | None,
    scenario_code: str | None,
    actor_id: str,
    outcome: str,
) -> None:
    """One use of an e-card (verify, authorise, scan_login ...), written with the unit of work."""
    repository.insert_usage(
        session,
        ecard_id=ecard_id,
        copy_id=copy_id,
        kind=kind,
        business=business,
        scenario_code=scenario_code,
        actor_id=actor_id,
        outcome=outcome,
        occurred_at=utcnow(),
    )


def record_refused_usage(
    session: Session, *, copy_id: int | None, scenario_code: str, actor_id: str, outcome: str
) -> None:
    """A refused verification, kept even though the unit of work rolls back."""
    values = {
        "copy_id": copy_id,
        "kind": "verify",
        "scenario_code": scenario_code,
        "actor_id": actor_id,
        "outcome": outcome,
        "occurred_at": utcnow(),
    }
    db.after_rollback(session, lambda fresh: repository.add_usage(fresh, Usage(**values)))


def record(
    session: Session,
    action: str,
    person_id: str,
    detail: dict[str, Any],
    fields: tuple[str, ...] = (),
) -> None:
    """Queue an audit record about the person, displayed by the cached masked ID number."""
    display = holder_brief(session, person_id).id_number_masked
    entry = AccessRecord(
        action=action,
        subject_type="person",
        subject_id=person_id,
        subject_display=display,
        fields=fields,
        detail=detail,
    )
    access.record(session, entry)


def record_about(
    session: Session,
    action: str,
    person_id: str,
    detail: dict[str, Any],
    fields: tuple[str, ...] = (),
    outcome: str = "success",
    keep: bool = False,
) -> None:
    """Queue an audit record whose subject is the person (what they see in their access log)."""
    with access.suppress_reads(session):
        display, _ = registry_service.person_display(session, person_id=person_id)
    entry = AccessRecord(
        action=action,
        subject_type="person",
        subject_id=person_id,
        subject_display=display,
        fields=fields,
        detail=detail,
        outcome=outcome,
    )
    access.record(session, entry, keep_on_failure=keep)
