"""Audit routes for auditors: search entries, verify the chain, read the head."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from sscard import db
from sscard.audit import service
from sscard.audit.schemas import AuditPage, ChainReport, EntryFilter
from sscard.httpkit.deps import DbSession, require
from sscard.httpkit.params import Page
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/audit", tags=["audit"])

AuditRead = Annotated[Actor, Depends(require("audit.read"))]
AuditVerify = Annotated[Actor, Depends(require("audit.verify"))]


@router.get("/entries", response_model=AuditPage, summary="Search the audit log")
def entries(
    _actor: AuditRead,
    session: DbSession,
    actor_id: str | None = None,
    actor_kind: str | None = None,
    action: Annotated[str | None, Query(description="prefix, e.g. iam.login")] = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    outcome: str | None = None,
    request_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: Page = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AuditPage:
    flt = EntryFilter(
        actor_id=actor_id,
        actor_kind=actor_kind,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        outcome=outcome,
        request_id=request_id,
        since=db.aware(since) if since else None,
        until=db.aware(until) if until else None,
    )
    return service.search(session, flt, page=page, page_size=page_size)


@router.get("/verify", response_model=ChainReport, summary="Recompute the hash chain")
def verify(_actor: AuditVerify, session: DbSession) -> ChainReport:
    return service.verify_chain(session)
