"""Batch card-making routes: batches (export, send, fetch, result import, rejects),
card-making failures, and the entity mappings and unresolved codes they feed.

Export, send, fetch and result import commit chunk by chunk in transactions of their own
(so that a long run is resumable and holds no lock for long): their routes first commit
the request's unit of work (the permission check and its audit entry), then run.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile, status
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from sscard.api.deps import DbSession, require
from sscard.exchange.mapping import service as exchange_service
from sscard.issuance import batches
from sscard.kit.context import Actor
from sscard.settings import get_settings

router = APIRouter()
batch_routes = APIRouter(prefix="/batches", tags=["batch card making"])
failure_routes = APIRouter(prefix="/failures", tags=["card-making failures"])
mapping_routes = APIRouter(tags=["entity mappings"])

Read = Annotated[Actor, Depends(require("issuance.read"))]
Batch = Annotated[Actor, Depends(require("issuance.batch"))]
CodesRead = Annotated[Actor, Depends(require("codes.read"))]
Limit = Annotated[int, Query(ge=1, le=1000)]


def _own_transactions(session: Session) -> None:
    """Commit the request's unit of work before work that commits in its own transactions."""
    session.commit()


@batch_routes.get("", response_model=list[batches.BatchOut])
def list_batches(_actor: Read, session: DbSession, limit: Limit = 50) -> list[batches.BatchOut]:
    """Batches, newest first, with their progress (cards per status)."""
    return batches.list_batches(session, limit=limit)


@batch_routes.post("", response_model=batches.ExportReport, status_code=status.HTTP_201_CREATED)
def export(data: batches.ExportIn, actor: Batch, session: DbSession) -> batches.ExportReport:
    """Export the applied batch-mode cards as a new batch (or finish a stopped export)."""
    _own_transactions(session)
    return batches.export_batch(actor=actor, limit=data.limit)


@batch_routes.get("/{batch_no}", response_model=batches.BatchOut)
def get_batch(batch_no: str, _actor: Read, session: DbSession) -> batches.BatchOut:
    """One batch with its progress."""
    return batches.get_batch(session, batch_no=batch_no)


@batch_routes.get(
    "/{batch_no}/package", response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}}},
)  # fmt: skip
def package(batch_no: str, _actor: Batch, session: DbSession) -> FileResponse:
    """The exported account-opening package (批量开户文件), as sent to the province."""
    path = batches.package_path(session, batch_no=batch_no)
    return FileResponse(path, media_type="application/zip", filename=f"{batch_no}.zip")


@batch_routes.post("/{batch_no}/send", response_model=batches.BatchOut)
def send(batch_no: str, data: batches.SendIn, actor: Batch, session: DbSession) -> batches.BatchOut:
    """Send the batch to the province; its cards move to making once accepted."""
    _own_transactions(session)
    return batches.send_batch(batch_no=batch_no, actor=actor, encrypt=data.encrypt)


@batch_routes.post("/{batch_no}/fetch", response_model=batches.FetchReport)
def fetch(
    batch_no: str, data: batches.SendIn, actor: Batch, session: DbSession
) -> batches.FetchReport:
    """Ask the province about the batch; download and check the result when ready."""
    _own_transactions(session)
    return batches.fetch_result(batch_no=batch_no, actor=actor, encrypt=data.encrypt)


@batch_routes.post("/{batch_no}/result", response_model=batches.ImportReport)
def import_result(
    batch_no: str,
    actor: Batch,
    session: DbSession,
    file: Annotated[UploadFile | None, File(description="Result file; default: the fetched one")]
    = None,
) -> batches.ImportReport:  # fmt: skip
    """Apply the batch's result file (制卡结果文件): resumable, and idempotent."""
    _own_transactions(session)
    if file is None:
        return batches.import_result(actor=actor, batch_no=batch_no)
    incoming = get_settings().data_dir / "batches" / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=incoming, suffix=".upload", delete=False) as handle:
        shutil.copyfileobj(file.file, handle, 1024 * 1024)
    upload = Path(handle.name)
    try:
        return batches.import_result(actor=actor, path=upload, batch_no=batch_no)
    finally:
        upload.unlink(missing_ok=True)


@batch_routes.get("/{batch_no}/rejects", response_model=list[batches.RejectOut])
def rejects(
    batch_no: str, _actor: Read, session: DbSession, limit: Limit = 200
) -> list[batches.RejectOut]:
    """Result rows that could not be applied, with the reason."""
    return batches.rejects_of(session, batch_no=batch_no, limit=limit)


@failure_routes.get("", response_model=list[batches.FailureOut])
def list_failures(
    _actor: Read,
    session: DbSession,
    batch_no: str | None = None,
    employer_id: int | None = None,
    failure_status: Annotated[
        Literal["open", "resubmitted", "closed", "all"], Query(alias="status")
    ] = "open",
    limit: Limit = 200,
) -> list[batches.FailureOut]:
    """Card-making failures (制卡失败): by batch, by employer, by status."""
    return batches.list_failures(
        session, batch_no=batch_no, employer_id=employer_id,
        status=None if failure_status == "all" else failure_status, limit=limit,
    )  # fmt: skip


@failure_routes.post("/{failure_id}/resolve", response_model=batches.FailureOut)
def resolve_failure(
    failure_id: int, data: batches.FailureNoteIn, actor: Batch, session: DbSession
) -> batches.FailureOut:
    """Close a failure with a note, without making the card again."""
    failure = batches.resolve_failure(session, failure_id=failure_id, note=data.note, actor=actor)
    return batches.failure_out(session, failure)


@failure_routes.post("/{failure_id}/resubmit", response_model=batches.FailureOut)
def resubmit_failure(
    failure_id: int, data: batches.FailureNoteIn, actor: Batch, session: DbSession
) -> batches.FailureOut:
    """Send the card back for the next batch (same card number)."""
    failure = batches.resubmit_failure(session, failure_id=failure_id, note=data.note, actor=actor)
    return batches.failure_out(session, failure)


@mapping_routes.get("/unresolved-codes", response_model=list[exchange_service.UnresolvedOut])
def unresolved(
    _actor: CodesRead,
    session: DbSession,
    system: str | None = None,
    kind: Literal["employer", "community", "card_type"] | None = None,
    code_status: Annotated[
        Literal["open", "resolved", "ignored", "all"], Query(alias="status")
    ] = "open",
    limit: Limit = 200,
) -> list[exchange_service.UnresolvedOut]:
    """Codes met in imports and exports without a counterpart, most often met first."""
    return exchange_service.list_unresolved(
        session, system=system, kind=kind, status=None if code_status == "all" else code_status,
        limit=limit,
    )  # fmt: skip


@mapping_routes.post(
    "/unresolved-codes/{unresolved_id}/resolve", response_model=exchange_service.UnresolvedOut
)
def resolve_code(
    unresolved_id: int, data: exchange_service.ResolveIn, actor: Batch, session: DbSession
) -> exchange_service.UnresolvedOut:
    """Answer a queued code with its counterpart (the mapping is written), or ignore it."""
    return exchange_service.resolve_unresolved(
        session, unresolved_id=unresolved_id, data=data, actor=actor
    )


@mapping_routes.get("/entity-mappings", response_model=list[exchange_service.EntityMappingOut])
def entity_mappings(
    _actor: CodesRead,
    session: DbSession,
    system: str | None = None,
    kind: Literal["employer", "community", "card_type"] | None = None,
    code: str | None = None,
    limit: Limit = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[exchange_service.EntityMappingOut]:
    """Employer, community and card-type mappings of other systems."""
    return exchange_service.list_entity_mappings(
        session, system=system, kind=kind, code=code, limit=limit, offset=offset
    )


@mapping_routes.put("/entity-mappings", response_model=exchange_service.EntityMappingOut)
def set_mapping(
    data: exchange_service.EntityMappingIn, actor: Batch, session: DbSession
) -> exchange_service.EntityMappingOut:
    """Map one of our codes to the system's (one to one)."""
    return exchange_service.set_entity_mapping(session, data=data, actor=actor)


@mapping_routes.delete(
    "/entity-mappings/{system}/{kind}/{code}", status_code=status.HTTP_204_NO_CONTENT
)
def delete_mapping(
    system: str, kind: str, code: str, _actor: Batch, session: DbSession
) -> Response:
    """Remove one mapping."""
    exchange_service.delete_entity_mapping(session, system=system, kind=kind, code=code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


for sub in (batch_routes, failure_routes, mapping_routes):
    router.include_router(sub)
