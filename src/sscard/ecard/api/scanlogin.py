"""Scan login routes: a portal asks for a ticket and polls it; the resident previews,
confirms or refuses it in the wallet."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from sscard import db
from sscard.ecard.api.deps import NO_STORE, Resident
from sscard.ecard.api.oauth import Client, authenticated, basic_credentials
from sscard.ecard.oauth import service as oauth
from sscard.ecard.scanlogin import service as scanlogin
from sscard.ecard.scanlogin.schemas import (
    LoginTicketIn,
    LoginTicketOut,
    LoginTicketPreview,
    LoginTicketStatus,
)
from sscard.httpkit.deps import DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit import context
from sscard.kit.context import Actor

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/ecard", tags=["e-card online"])

POLL_INTERVAL = 0.5


# ---- scan login ----------------------------------------------------------------------


@router.post("/login-tickets", response_model=LoginTicketOut, status_code=status.HTTP_201_CREATED)
def create_login_ticket(
    client: Client,
    session: DbSession,
    data: Annotated[LoginTicketIn | None, Body()] = None,
) -> LoginTicketOut:
    """A portal asks for a login QR (two minutes, single use)."""
    return scanlogin.create_ticket(session, client=client, scope=data.scope if data else None)


@router.get("/login-tickets/{ticket_id}/preview", response_model=LoginTicketPreview)
def preview_login(ticket_id: str, _resident: Resident, session: DbSession) -> LoginTicketPreview:
    """After the scan: which portal asks, what it will learn."""
    return scanlogin.preview(session, ticket_id=ticket_id)


@router.post("/login-tickets/{ticket_id}/confirm", response_model=LoginTicketPreview)
def confirm_login(ticket_id: str, resident: Resident, session: DbSession) -> LoginTicketPreview:
    """The resident confirms the login in the wallet."""
    return scanlogin.confirm(session, ticket_id=ticket_id, resident=resident)


@router.post("/login-tickets/{ticket_id}/refuse", response_model=LoginTicketPreview)
def refuse_login(ticket_id: str, resident: Resident, session: DbSession) -> LoginTicketPreview:
    """The resident declines the login."""
    return scanlogin.refuse(session, ticket_id=ticket_id, resident=resident)


def _client_of(credentials: tuple[str, str] | None) -> tuple[str, Actor]:
    with db.transaction() as session:
        client = authenticated(session, credentials)
        return client.client_id, oauth.client_actor(client)


def _poll_once(ticket_id: str, client_id: str) -> LoginTicketStatus:
    with db.transaction() as session:
        client = oauth.get_client(session, client_id=client_id)
        return scanlogin.poll(session, ticket_id=ticket_id, client=client)


async def wait_for_ticket(ticket_id: str, client_id: str, wait: int) -> LoginTicketStatus:
    """Poll in short transactions until the ticket leaves ``pending`` or ``wait`` runs out
    (no transaction stays open while waiting, so the confirmation is never blocked)."""
    deadline = time.monotonic() + max(0, min(wait, scanlogin.MAX_WAIT_SECONDS))
    while True:
        out = await run_in_threadpool(_poll_once, ticket_id, client_id)
        if out.status != "pending" or time.monotonic() >= deadline:
            return out
        await asyncio.sleep(POLL_INTERVAL)


@router.get("/login-tickets/{ticket_id}", response_model=LoginTicketStatus)
async def poll_login(
    ticket_id: str, request: Request, wait: Annotated[int, Query(ge=0, le=60)] = 0
) -> JSONResponse:
    """The portal learns the ticket's state; with ``wait`` (seconds, at most 30) it is held
    until something happens. The identity comes once, on the first read after confirming."""
    client_id, actor = await run_in_threadpool(_client_of, basic_credentials(request))
    context.update(actor=actor)
    out = await wait_for_ticket(ticket_id, client_id, wait)
    return JSONResponse(out.model_dump(mode="json"), headers=NO_STORE)
