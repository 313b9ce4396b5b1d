"""Benefit disbursement routes (待遇发放), limited to the operator's region.

Sending, fetching returns and the retry run talk to the banks between transactions of
their own (:mod:`sscard.payments.disbursement.dispatch`); their routes open no request
transaction around the run: the actor is checked in a short unit of work of its own
(:data:`Run`), committed before the run starts.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile, status

from sscard import db
from sscard.errors import PermissionDenied
from sscard.httpkit.deps import DbSession, authenticate, require
from sscard.httpkit.params import Id, Page, PageSize
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.iam import service as iam_service
from sscard.kit.context import Actor
from sscard.payments.disbursement import dispatch, failures, service
from sscard.payments.disbursement.schemas import (
    BatchFilter,
    BatchOut,
    FileOut,
    InvariantReport,
    LineFilter,
    LineOut,
    ResolveIn,
    RunReport,
)
from sscard.settings import get_settings

router = APIRouter(
    route_class=UnitOfWorkRoute, prefix="/disbursements", tags=["benefit disbursement"]
)
Read = Annotated[Actor, Depends(require("payments.disbursement.read"))]
Manage = Annotated[Actor, Depends(require("payments.disbursement.manage"))]
FileNo = Annotated[str, Form(pattern=r"^[A-Za-z0-9-]{1,64}$")]


def _checked_apart(permission: str) -> Callable[[Request], Actor]:
    """The actor, if it holds ``permission``, checked in a unit of work that commits first."""

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


Run = Annotated[Actor, Depends(_checked_apart("payments.disbursement.manage"))]


@contextmanager
def saved(upload: UploadFile) -> Iterator[Path]:
    """An uploaded file on disk for the length of the block."""
    incoming = get_settings().data_dir / "disbursement" / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=incoming, suffix=".upload", delete=False) as handle:
        shutil.copyfileobj(upload.file, handle, 1024 * 1024)
    path = Path(handle.name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


@router.post("", response_model=BatchOut, status_code=status.HTTP_201_CREATED)
def import_batch(
    actor: Manage,
    session: DbSession,
    file: Annotated[
        UploadFile, File(description="CSV or XLSX: 社会保障号码, 姓名, 金额, 待遇类型, 期别")
    ],
) -> BatchOut:
    """Import a benefit file as a batch: every row checked, all imported or none (422)."""
    with saved(file) as path:
        batch = service.import_file(
            session, path=path, source_name=file.filename or "upload", actor=actor
        )
    return service.batch_out(session, batch)


@router.get("", response_model=list[BatchOut])
def list_batches(
    actor: Read,
    session: DbSession,
    response: Response,
    batch_status: Annotated[BatchFilter, Query(alias="status")] = BatchFilter.all,
    page: Page = 1,
    page_size: PageSize = 20,
) -> list[BatchOut]:
    """Batches of the operator's region, newest first; the total in ``X-Total-Count``."""
    found, total = service.list_batches(
        session, actor=actor, status=batch_status, page=page, page_size=page_size
    )
    response.headers["X-Total-Count"] = str(total)
    return found


@router.get("/invariant", response_model=InvariantReport)
def invariant(_actor: Read, session: DbSession) -> InvariantReport:
    """Money out = money confirmed by the banks + money in suspense (ledger and lines)."""
    return service.check_invariant(session)


@router.get("/failures", response_model=list[LineOut])
def list_failures(
    actor: Read,
    session: DbSession,
    response: Response,
    page: Page = 1,
    page_size: PageSize = 50,
) -> list[LineOut]:
    """The failures queue (待处理失败): failed lines of the region's batches."""
    found, total = service.list_lines(
        session,
        actor=actor,
        batch_no=None,
        status=LineFilter.failed,
        page=page,
        page_size=page_size,
    )
    response.headers["X-Total-Count"] = str(total)
    return found


@router.post("/retry", response_model=RunReport)
def retry_due(actor: Run) -> RunReport:
    """Retry lines refused for a cancelled card whose replacement card is live now."""
    return dispatch.retry_due(actor=actor)


@router.post("/lines/{line_id}/retry", response_model=LineOut)
def retry_line(line_id: Id, actor: Manage, session: DbSession) -> LineOut:
    """Retry one failed line to the person's live card; it goes with the next send."""
    line = failures.retry_line(session, line_id=line_id, actor=actor)
    return service.line_out(line, service.get_batch_no(session, line=line))


@router.post("/lines/{line_id}/resolve", response_model=LineOut)
def resolve_line(line_id: Id, data: ResolveIn, actor: Manage, session: DbSession) -> LineOut:
    """Close a failed line by hand with a reason; its money returns to the benefit fund."""
    line = failures.resolve_line(session, line_id=line_id, note=data.note, actor=actor)
    return service.line_out(line, service.get_batch_no(session, line=line))


@router.get("/{batch_no}", response_model=BatchOut)
def get_batch(batch_no: str, actor: Read, session: DbSession) -> BatchOut:
    return service.batch_out(session, service.get_batch(session, batch_no=batch_no, actor=actor))


@router.get("/{batch_no}/lines", response_model=list[LineOut])
def list_lines(
    batch_no: str,
    actor: Read,
    session: DbSession,
    response: Response,
    line_status: Annotated[LineFilter, Query(alias="status")] = LineFilter.all,
    page: Page = 1,
    page_size: PageSize = 50,
) -> list[LineOut]:
    """A batch's lines by status (or all); the total in ``X-Total-Count``."""
    found, total = service.list_lines(
        session,
        actor=actor,
        batch_no=batch_no,
        status=line_status,
        page=page,
        page_size=page_size,
    )
    response.headers["X-Total-Count"] = str(total)
    return found


@router.get("/{batch_no}/files", response_model=list[FileOut])
def list_files(batch_no: str, actor: Read, session: DbSession) -> list[FileOut]:
    """The batch's payment files, one per bank and sending, with what the banks returned."""
    return service.list_files(session, batch_no=batch_no, actor=actor)


@router.post("/{batch_no}/send", response_model=RunReport)
def send(batch_no: str, actor: Run) -> RunReport:
    """Write a payment file per bank of the pending lines and deliver it."""
    return dispatch.send_batch(batch_no=batch_no, actor=actor)


@router.post("/{batch_no}/fetch", response_model=RunReport)
def fetch(batch_no: str, actor: Run) -> RunReport:
    """Download and apply the return file of every file at its bank."""
    return dispatch.fetch_returns(batch_no=batch_no, actor=actor)


@router.post("/{batch_no}/returns", response_model=RunReport)
def import_return(
    batch_no: str,
    actor: Run,
    file_no: FileNo,
    file: Annotated[UploadFile, File(description="The bank's return file")],
) -> RunReport:
    """Apply a return file received from the bank some other way."""
    with saved(file) as path:
        return dispatch.import_return_upload(
            batch_no=batch_no, file_no=file_no, path=path, actor=actor
        )
