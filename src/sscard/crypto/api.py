"""Key routes: the key list with public keys, and one public key as PEM. Never secrets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse

from sscard.crypto import service
from sscard.crypto.schemas import KeyInfo
from sscard.httpkit.deps import DbSession, require
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.bounds import INT_MAX
from sscard.kit.context import Actor

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/keys", tags=["keys"])

KeysRead = Annotated[Actor, Depends(require("keys.read"))]


@router.get("", response_model=list[KeyInfo], summary="List keys, versions and public keys")
def list_keys(_actor: KeysRead, session: DbSession) -> list[KeyInfo]:
    return service.list_keys(session)


@router.get(
    "/{name}/public.pem",
    response_class=PlainTextResponse,
    summary="The SM2 public key of a key as PEM (OpenSSL reads it)",
    responses={200: {"content": {"application/x-pem-file": {}}}},
)
def public_pem(
    name: str,
    _actor: KeysRead,
    session: DbSession,
    version: Annotated[
        int | None, Query(ge=1, le=INT_MAX, description="default: the active version")
    ] = None,
) -> PlainTextResponse:
    pem_text = service.export_public_pem(session, name=name, version=version)
    return PlainTextResponse(pem_text, media_type="application/x-pem-file")
