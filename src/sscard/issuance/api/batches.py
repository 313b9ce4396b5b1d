"""Batch card-making routes: batches (export, send, fetch, result import, rejects),
card-making failures, and the entity mappings and unresolved codes they feed.

Export, send, fetch and result import commit chunk by chunk in units of work of their own
(so that a long run is resumable and holds no lock for long). Their routes therefore open
no request transaction around the run: the actor is checked in a short unit of work of its
own (:data:`BatchRun`), committed before the run starts, since a transaction left open
would hold the SQLite write lock (every unit of work begins ``IMMEDIATE``) and the
token's and the audit chain's row locks on PostgreSQL, and the run's own transactions
would wait behind it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile, status
from fastapi.responses import FileResponse

from sscard import db
from sscard.errors import PermissionDenied
from sscard.exchange.mapping import service as exchange_mapping
from sscard.httpkit.deps import DbSession, authenticate, require
from sscard.httpkit.params import Id, IdFilter, Offset, Page, PageSize
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.iam import service as iam_service
from sscard.issuance.batches import export as exporting
from sscard.issuance.batches import province, result_import, service
from sscard.issuance.batches.schemas import (
    BatchOut,
    ExportIn,
    ExportReport,
    FailureNoteIn,
    FailureOut,
    FetchReport,
    ImportReport,
    PendingPage,
    RejectOut,
    SendIn,
)
from sscard.kit.context import Actor
from sscard.settings import get_settings

router = APIRouter(route_class=UnitOfWorkRoute)
batch_routes = APIRouter(route_class=UnitOfWorkRoute, prefix="/batches", tags=["batch card making"])
failure_routes = APIRouter(
    route_class=UnitOfWorkRoute, prefix="/failures", tags=["card-making failures"]
)
mapping_routes = APIRouter(route_class=UnitOfWorkRoute, tags=["entity mappings"])

Read = Annotated[Actor, Depends(require("issuance.read"))]
Batch = Annotated[Actor, Depends(require("issuance.batch"))]
CodesRead = Annotated[Actor, Depends(require("codes.read"))]
Limit = Annotated[int, Query(ge=1, le=1000)]


def _checked_apart(permission: str) -> Callable[[Request], Actor]:
    """A dependency: the actor, if it holds ``permission``, checked in a unit of work of its
    own that commits (the token's use, a denial's audit entry) before the route runs."""

    def dependency(request: Request) -> Actor:
        with db.transaction() as session:
            actor = authenticate(request, session)
            try:
                iam_service.authorize(actor, permission)
            except PermissionDenied:
                iam_service.record_denied(session, permission=permission)
                raise
        return actor

    dependency.__name__ = f"require_{permission.replace('.', '_')}_apart"
    return dependency


BatchRun = Annotated[Actor, Depends(_checked_apart("issuance.batch"))]
"""The batch clerk of a route whose work runs in units of work of its own."""


@batch_routes.get("", response_model=list[BatchOut])
def list_batches(_actor: Read, session: DbSession, limit: Limit = 50) -> list[BatchOut]:
    """Batches, newest first, with their progress (cards per status)."""
    return service.list_batches(session, limit=limit)


@batch_routes.post("", response_model=ExportReport, status_code=status.HTTP_201_CREATED)
def export(data: ExportIn, actor: BatchRun) -> ExportReport:
    """Export the applied batch-mode cards as a new batch (or finish a stopped export)."""
    return exporting.export_batch(actor=actor, limit=data.limit)


@batch_routes.get("/pending", response_model=PendingPage)
def pending(
    actor: Batch, session: DbSession, page: Page = 1, page_size: PageSize = 50
) -> PendingPage:
    """Batch-mode applications the next export takes (待制卡申请), oldest first, masked."""
    return service.pending_applications(session, actor=actor, page=page, page_size=page_size)


@batch_routes.get("/{batch_no}", response_model=BatchOut)
def get_batch(batch_no: str, _actor: Read, session: DbSession) -> BatchOut:
    """One batch with its progress."""
    return service.get_batch(session, batch_no=batch_no)


@batch_routes.get(
    "/{batch_no}/package",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}}},
)
def package(batch_no: str, _actor: Batch, session: DbSession) -> FileResponse:
    """The exported account-opening package (批量开户文件), as sent to the province."""
    path = service.package_path(session, batch_no=batch_no)
    return FileResponse(path, media_type="application/zip", filename=f"{batch_no}.zip")


@batch_routes.post("/{batch_no}/send", response_model=BatchOut)
def send(batch_no: str, data: SendIn, actor: BatchRun) -> BatchOut:
    """Send the batch to the province; its cards move to making once accepted."""
    return province.send_batch(batch_no=batch_no, actor=actor, encrypt=data.encrypt)


@batch_routes.post("/{batch_no}/fetch", response_model=FetchReport)
def fetch(batch_no: str, data: SendIn, actor: BatchRun) -> FetchReport:
    """Ask the province about the batch; download and check the result when ready."""
    return province.fetch_result(batch_no=batch_no, actor=actor, encrypt=data.encrypt)


@batch_routes.post("/{batch_no}/result", response_model=ImportReport)
def import_result(
    batch_no: str,
    actor: BatchRun,
    file: Annotated[
        UploadFile | None, File(description="Result file; default: the fetched one")
    ] = None,
) -> ImportReport:
    """Apply the batch's result file (制卡结果文件): resumable, and idempotent."""
    if file is None:
        return result_import.import_result(actor=actor, batch_no=batch_no)
    incoming = get_settings().data_dir / "batches" / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=incoming, suffix=".upload", delete=False) as handle:
        shutil.copyfileobj(file.file, handle, 1024 * 1024)
    upload = Path(handle.name)
    try:
        return result_import.import_result(actor=actor, path=upload, batch_no=batch_no)
    finally:
        upload.unlink(missing_ok=True)


@batch_routes.get("/{batch_no}/rejects", response_model=list[RejectOut])
def rejects(batch_no: str, _actor: Read, session: DbSession, limit: Limit = 200) -> list[RejectOut]:
    """Result rows that could not be applied, with the reason."""
    return service.rejects_of(session, batch_no=batch_no, limit=limit)


@failure_routes.get("", response_model=list[FailureOut])
def list_failures(
    _actor: Read,
    session: DbSession,
    batch_no: str | None = None,
    employer_id: IdFilter = None,
    failure_status: Annotated[
        Literal["open", "resubmitted", "closed", "all"], Query(alias="status")
    ] = "open",
    limit: Limit = 200,
) -> list[FailureOut]:
    """Card-making failures (制卡失败): by batch, by employer, by status."""
    return service.list_failures(
        session,
        batch_no=batch_no,
        employer_id=employer_id,
        status=None if failure_status == "all" else failure_status,
        limit=limit,
    )


@failure_routes.post("/{failure_id}/resolve", response_model=FailureOut)
def resolve_failure(
    failure_id: Id, data: FailureNoteIn, actor: Batch, session: DbSession
) -> FailureOut:
    """Close a failure with a note, without making the card again."""
    failure = service.resolve_failure(session, failure_id=failure_id, note=data.note, actor=actor)
    return service.failure_out(session, failure)


@failure_routes.post("/{failure_id}/reopen", response_model=FailureOut)
def reopen_failure(
    failure_id: Id, data: FailureNoteIn, actor: Batch, session: DbSession
) -> FailureOut:
    """Open a handled failure again, with the reason (not one already resubmitted)."""
    failure = service.reopen_failure(session, failure_id=failure_id, note=data.note, actor=actor)
    return service.failure_out(session, failure)


@failure_routes.post("/{failure_id}/resubmit", response_model=FailureOut)
def resubmit_failure(
    failure_id: Id, data: FailureNoteIn, actor: Batch, session: DbSession
) -> FailureOut:
    """Send the card back for the next batch (same card number)."""
    failure = service.resubmit_failure(session, failure_id=failure_id, note=data.note, actor=actor)
    return service.failure_out(session, failure)


@mapping_routes.get("/unresolved-codes", response_model=list[exchange_mapping.UnresolvedOut])
def unresolved(
    _actor: CodesRead,
    session: DbSession,
    system: str | None = None,
    kind: Literal["employer", "community", "card_type"] | None = None,
    code_status: Annotated[
        Literal["open", "resolved", "ignored", "all"], Query(alias="status")
    ] = "open",
    limit: Limit = 200,
) -> list[exchange_mapping.UnresolvedOut]:
    """Codes met in imports and exports without a counterpart, most often met first."""
    return exchange_mapping.list_unresolved(
        session,
        system=system,
        kind=kind,
        status=None if code_status == "all" else code_status,
        limit=limit,
    )


@mapping_routes.post(
    "/unresolved-codes/{unresolved_id}/resolve", response_model=exchange_mapping.UnresolvedOut
)
def resolve_code(
    unresolved_id: Id, data: exchange_mapping.ResolveIn, actor: Batch, session: DbSession
) -> exchange_mapping.UnresolvedOut:
    """Answer a queued code with its counterpart (the mapping is written), or ignore it."""
    return exchange_mapping.resolve_unresolved(
        session, unresolved_id=unresolved_id, data=data, actor=actor
    )


@mapping_routes.get("/entity-mappings", response_model=list[exchange_mapping.EntityMappingOut])
def entity_mappings(
    _actor: CodesRead,
    session: DbSession,
    system: str | None = None,
    kind: Literal["employer", "community", "card_type"] | None = None,
    code: str | None = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> list[exchange_mapping.EntityMappingOut]:
    """Employer, community and card-type mappings of other systems."""
    return exchange_mapping.list_entity_mappings(
        session, system=system, kind=kind, code=code, limit=limit, offset=offset
    )


@mapping_routes.put("/entity-mappings", response_model=exchange_mapping.EntityMappingOut)
def set_mapping(
    data: exchange_mapping.EntityMappingIn, actor: Batch, session: DbSession
) -> exchange_mapping.EntityMappingOut:
    """Map one of our codes to the system's (one to one)."""
    return exchange_mapping.set_entity_mapping(session, data=data, actor=actor)


@mapping_routes.delete(
    "/entity-mappings/{system}/{kind}/{code}", status_code=status.HTTP_204_NO_CONTENT
)
def delete_mapping(
    system: str, kind: str, code: str, _actor: Batch, session: DbSession
) -> Response:
    """Remove one mapping."""
    exchange_mapping.delete_entity_mapping(session, system=system, kind=kind, code=code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


for sub in (batch_routes, failure_routes, mapping_routes):
    router.include_router(sub)
