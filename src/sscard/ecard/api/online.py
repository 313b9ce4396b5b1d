"""E-card online services: my insurance and access log, and credential display (亮证).

Resident endpoints take the e-card session token (``ser_...``) from
``POST /api/v1/ecard/sessions``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from sscard.ecard import credentials, online
from sscard.ecard.api.deps import NO_STORE, Resident, throttle
from sscard.ecard.schemas import (
    AccessLogPage,
    CredentialCheck,
    CredentialIn,
    CredentialOut,
    InsuranceOut,
    NotAvailableOut,
)
from sscard.httpkit.deps import DbSession
from sscard.httpkit.params import Page
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit import context
from sscard.kit.context import Actor, ActorKind

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/ecard", tags=["e-card online"])

ANONYMOUS = Actor(kind=ActorKind.system, id="anonymous", name="匿名核验方")
"""Whoever checks a credential without logging in."""


# ---- online services -----------------------------------------------------------------


@router.get("/me/insurance", response_model=InsuranceOut)
def my_insurance(resident: Resident, session: DbSession) -> InsuranceOut:
    """My insurance enrolments (参保信息) from the cardholder registry."""
    return online.my_insurance(session, person_id=resident.person_id)


@router.get("/me/benefits", response_model=NotAvailableOut)
def my_benefits(_resident: Resident) -> NotAvailableOut:
    """My benefits (待遇): supplied by a later component; says so plainly."""
    return online.not_yet("benefits")


@router.get("/me/rights", response_model=NotAvailableOut)
def my_rights(_resident: Resident) -> NotAvailableOut:
    """My rights records (权益记录): supplied by a later component; says so plainly."""
    return online.not_yet("rights")


@router.get("/me/contributions", response_model=NotAvailableOut)
def my_contributions(_resident: Resident) -> NotAvailableOut:
    """My contributions (缴费记录): supplied by a later component; says so plainly."""
    return online.not_yet("contributions")


@router.get("/me/access-log", response_model=AccessLogPage)
def my_access_log(
    resident: Resident,
    session: DbSession,
    page: Page = 1,
    page_size: Annotated[int, Query(ge=1, le=online.MAX_PAGE_SIZE)] = 20,
    include_self: bool = False,
) -> AccessLogPage:
    """Who accessed my data (from the audit log), newest first."""
    return online.access_log(
        session,
        person_id=resident.person_id,
        page=page,
        page_size=page_size,
        include_self=include_self,
    )


# ---- credential display --------------------------------------------------------------


@router.get("/me/credential", response_model=CredentialOut)
def my_credential(resident: Resident, session: DbSession) -> JSONResponse:
    """A credential of my e-card signed by the platform (five minutes), as text and SVG."""
    out = credentials.issue(session, person_id=resident.person_id)
    return JSONResponse(out.model_dump(mode="json"), headers=NO_STORE)


@router.post("/credentials/verify", response_model=CredentialCheck)
def verify_credential(data: CredentialIn, request: Request, session: DbSession) -> CredentialCheck:
    """Check a shown credential: no login needed; signature, expiry and current status."""
    context.update(actor=ANONYMOUS)
    throttle(request, session, "credential", 60)
    return credentials.verify(session, text=data.credential)
