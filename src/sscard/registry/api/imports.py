"""Bulk import routes: upload a file (the job runs in the background), follow it, rejects."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    File,
    Form,
    Query,
    Response,
    UploadFile,
    status,
)
from fastapi.responses import StreamingResponse

from sscard.httpkit.deps import DbSession, require
from sscard.httpkit.params import Id, IdFilter
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.bounds import BIGINT_MAX
from sscard.kit.context import Actor
from sscard.registry.imports import job, rejects, service
from sscard.registry.imports.schemas import ImportJobOut

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/imports", tags=["imports"])
Importer = Annotated[Actor, Depends(require("registry.import"))]


@router.post(
    "",
    response_model=ImportJobOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={200: {"description": "The file was imported completely before; nothing to do."}},
)
def start_import(
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030) or XLSX of persons")],
    actor: Importer,
    session: DbSession,
    background: BackgroundTasks,
    response: Response,
    employer_id: Annotated[int | None, Form(ge=1, le=BIGINT_MAX)] = None,
    employer_credit_code: Annotated[str | None, Form(max_length=32)] = None,
) -> ImportJobOut:
    """Upload persons for import; the job runs in the background (poll it for counts)."""
    opened = service.submit_upload(
        session,
        file.file,
        file_name=file.filename or "upload",
        actor=actor,
        employer_id=employer_id,
        employer_credit_code=employer_credit_code,
    )
    if opened.runnable:
        background.add_task(job.run_in_background, opened.job.id, actor)
    else:
        response.status_code = status.HTTP_200_OK
    return opened.job


@router.get("", response_model=list[ImportJobOut])
def list_imports(
    actor: Importer,
    session: DbSession,
    employer_id: IdFilter = None,
    status: Annotated[
        Literal["pending", "running", "completed", "failed", "all"], Query(alias="status")
    ] = "all",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ImportJobOut]:
    """Recent import jobs the actor may follow (their institution's), newest first."""
    found = service.jobs_in_scope(
        session,
        actor=actor,
        status=None if status == "all" else status,
        employer_id=employer_id,
        limit=limit,
    )
    return [service.job_out(job) for job in found]


@router.get("/{job_id}", response_model=ImportJobOut)
def get_import(job_id: Id, actor: Importer, session: DbSession) -> ImportJobOut:
    """An import job the actor may follow: status, counts and the next line to read."""
    return service.job_out(service.job_in_scope(session, job_id=job_id, actor=actor))


@router.get(
    "/{job_id}/rejects.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
def get_import_rejects(job_id: Id, actor: Importer, session: DbSession) -> StreamingResponse:
    """The rejected rows: line, masked ID number, reasons (CSV, UTF-8 with BOM); only
    those committed when a job was broken off."""
    service.job_in_scope(session, job_id=job_id, actor=actor)
    path, count = service.committed_rejects(session, job_id=job_id)
    return StreamingResponse(
        rejects.reject_lines(path, count),
        media_type="text/csv; charset=utf-8",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="import-{job_id}-rejects.csv"',
        },
    )
