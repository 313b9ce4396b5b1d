"""Card photo routes: upload (checked, EXIF stripped, encrypted) and read (audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Response, UploadFile

from sscard.httpkit.deps import CurrentActor, DbSession, require
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor
from sscard.registry.photos import service
from sscard.registry.photos.schemas import PhotoInfo

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/persons", tags=["persons"])

Write = Annotated[Actor, Depends(require("registry.write"))]


@router.put("/{id_number}/photo", response_model=PhotoInfo)
def put_photo(
    id_number: str,
    photo: Annotated[UploadFile, File(description="JPEG, 358×441 px")],
    actor: Write,
    session: DbSession,
) -> PhotoInfo:
    """Upload or replace the card photo (checked, EXIF stripped, stored encrypted)."""
    data = photo.file.read()
    return service.put_photo(session, id_number=id_number, data=data, actor=actor)


@router.get(
    "/{id_number}/photo",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def get_photo(id_number: str, actor: CurrentActor, session: DbSession) -> Response:
    """The card photo (permission registry.photo.read; audited)."""
    data = service.get_photo(session, id_number=id_number, actor=actor)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})
