"""E-card routes: signing, resident sessions and codes, verification, revocations."""

from __future__ import annotations

import io
from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from sscard import db
from sscard.crypto import service as crypto_service
from sscard.ecard import service
from sscard.ecard.api.deps import Business, Resident, throttle
from sscard.ecard.codes import service as codes_service
from sscard.ecard.codes.schemas import CodeOut, VerificationOut, VerifyIn
from sscard.ecard.schemas import ECardOut, LoginIn, RevocationPage, SessionOut, SignIn
from sscard.errors import FieldProblem, ValidationFailed
from sscard.httpkit.deps import DbSession, authenticate, bearer_token, require
from sscard.httpkit.params import LongLimit, Since
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.iam import service as iam_service
from sscard.kit.context import SYSTEM, Actor, ActorKind

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/ecard", tags=["e-card"])


LIMIT = 30
"""Self-signings and logins per client address a minute."""


@router.post("/sign", response_model=ECardOut, status_code=status.HTTP_201_CREATED)
def sign(
    data: SignIn,
    actor: Annotated[Actor, Depends(require("ecard.sign"))],
    session: DbSession,
) -> ECardOut:
    """Sign an e-card at a counter (real name, real card, real person) or add a copy."""
    ecard, _copy = service.sign(session, data=data, actor=actor)
    return service.ecard_out(session, ecard)


@router.post("/self-sign", response_model=ECardOut, status_code=status.HTTP_201_CREATED)
def self_sign(data: SignIn, request: Request, session: DbSession) -> ECardOut:
    """A resident signs their own e-card in a channel app (face check, card PIN)."""
    throttle(request, session, "sign", LIMIT)
    if data.real_person.method == "counter":
        raise ValidationFailed([FieldProblem("real_person.method", "自助签发须进行人脸核验")])
    ecard, _copy = service.sign(session, data=data, actor=SYSTEM)
    return service.ecard_out(session, ecard)


@router.post("/pin-reset", response_model=ECardOut)
def reset_pin(data: SignIn, request: Request, session: DbSession) -> ECardOut:
    """The holder unlocks the e-card with a new PIN in a channel app: the checks of signing
    (card and card PIN, name, face)."""
    throttle(request, session, "pin-reset", LIMIT)
    if data.real_person.method == "counter":
        raise ValidationFailed([FieldProblem("real_person.method", "自助重置须进行人脸核验")])
    return service.ecard_out(session, service.reset_pin(session, data=data, actor=SYSTEM))


@router.post("/counter-pin-reset", response_model=ECardOut)
def counter_reset_pin(
    data: SignIn,
    actor: Annotated[Actor, Depends(require("ecard.sign"))],
    session: DbSession,
) -> ECardOut:
    """A clerk resets the e-card PIN at a counter (the holder present with the card)."""
    return service.ecard_out(session, service.reset_pin(session, data=data, actor=actor))


@router.post("/sessions", response_model=SessionOut, status_code=status.HTTP_201_CREATED)
def login(data: LoginIn, request: Request, session: DbSession) -> SessionOut:
    """Open the e-card in a channel app with the e-card PIN (验密)."""
    throttle(request, session, "login", LIMIT)
    raw, record = service.login(
        session,
        id_number=data.id_number,
        pin=data.ecard_pin.get_secret_value(),
        channel_code=data.channel_code,
    )
    return SessionOut(token=raw, expires_at=record.expires_at)


@router.delete("/sessions/current", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, _resident: Resident, session: DbSession) -> Response:
    raw = bearer_token(request)
    if raw:
        service.logout(session, raw=raw)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=ECardOut)
def me(resident: Resident, session: DbSession) -> ECardOut:
    """My e-card and its copies."""
    return service.ecard_out(
        session, service.get_ecard_of_person(session, person_id=resident.person_id)
    )


def _svg(code: str) -> str:
    buffer = io.BytesIO()
    segno.make(code, error="m").save(buffer, kind="svg", scale=4, border=2, xmldecl=False)
    return buffer.getvalue().decode()


@router.post("/me/codes", response_model=CodeOut)
def new_code(resident: Resident, session: DbSession, business: Business = 1) -> CodeOut:
    """A fresh dynamic QR code of my e-card in this channel."""
    copy = service.own_copy(session, resident=resident)
    return codes_service.issue_code(session, copy=copy, business=business)


@router.get("/me/codes/current.svg", response_class=Response)
def code_svg(resident: Resident, session: DbSession, business: Business = 1) -> Response:
    """A fresh code as an SVG image (segno)."""
    copy = service.own_copy(session, resident=resident)
    code = codes_service.issue_code(session, copy=copy, business=business)
    headers = {"Cache-Control": "no-store", "X-Code-Expires": code.expires_at.isoformat()}
    return Response(_svg(code.code), media_type="image/svg+xml", headers=headers)


@router.get("/me/codes/current.png", response_class=Response)
def code_png(resident: Resident, session: DbSession, business: Business = 1) -> Response:
    """A fresh code as a PNG image (segno)."""
    copy = service.own_copy(session, resident=resident)
    code = codes_service.issue_code(session, copy=copy, business=business)
    buffer = io.BytesIO()
    segno.make(code.code, error="m").save(buffer, kind="png", scale=6, border=2)
    return Response(
        buffer.getvalue(), media_type="image/png", headers={"Cache-Control": "no-store"}
    )


@router.post("/me/offline-code", response_class=PlainTextResponse)
def offline(resident: Resident, session: DbSession, business: Business = 1) -> str:
    """An offline code signed by the platform (for terminals without a network)."""
    copy = service.own_copy(session, resident=resident)
    return codes_service.offline_code(session, copy=copy, business=business)


@router.post("/codes/verify", response_model=VerificationOut)
async def verify(data: VerifyIn, request: Request) -> VerificationOut:
    """Verify a scanned code once (terminal token, or a counter operator naming a scenario).

    The hottest route of the platform: the whole unit of work (authentication, check,
    claim, usage, audit, commit) runs in one worker-thread call instead of one per
    dependency.
    """
    return await run_in_threadpool(_verify, data, request)


def _verify(data: VerifyIn, request: Request) -> VerificationOut:
    with db.transaction() as session:
        actor = authenticate(request, session)
        scenario = getattr(request.state, "scenario", None)
        if actor.kind is not ActorKind.terminal:
            iam_service.authorize(actor, "ecard.verify")
            scenario = data.scenario_code or "counter"
        return codes_service.verify_code(
            session,
            text=data.code,
            business=data.business,
            scenario_code=scenario or "counter",
            actor=actor,
        )


@router.get("/revocations", response_model=RevocationPage)
def revocations(
    _actor: Annotated[Actor, Depends(require("ecard.verify"))],
    session: DbSession,
    since: Since = 0,
    limit: LongLimit = 1000,
) -> RevocationPage:
    """Copy state changes after ``since`` (for terminals that verify offline)."""
    return service.revocations(session, since=since, limit=limit)


@router.get("/public-key.pem", response_class=PlainTextResponse)
def public_key(session: DbSession) -> str:
    """The platform's SM2 public key that signs offline codes and credentials."""
    service.ensure_keys(session)
    return crypto_service.export_public_pem(session, name=service.SIGN_KEY)
