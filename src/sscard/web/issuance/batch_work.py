"""Batch work from the pages (批量制卡): the applications waiting for a batch (待制卡申请),
export them as a new batch (导出), send it to the province (报送), fetch the card-making result
(获取结果) and import it (导入, the fetched file or an uploaded one).

Export, send, fetch and import run in units of work of their own, committed chunk by chunk
(as over the API and the CLI), so these handlers hold no request session: the clerk is
checked in a short transaction first, and the page is drawn in another one after the work.
An error is shown on the batch page in the clerk's words (a province address not configured
names its setting), never as a 500."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from sscard import db
from sscard.errors import PermissionDenied, SSCardError
from sscard.httpkit.deps import DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.iam import service as iam_service
from sscard.issuance.batches import export as batch_export
from sscard.issuance.batches import province as batch_province
from sscard.issuance.batches import result_import
from sscard.issuance.batches import service as batch_service
from sscard.kit.context import Actor
from sscard.kit.masking import mask_text
from sscard.settings import get_settings
from sscard.web import pages
from sscard.web.issuance.batches import batch_values
from sscard.web.issuance.common import BatchClerk, page, refusal, refusing
from sscard.web.registry.common import PageRefused, page_number

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/cards", include_in_schema=False)
PAGE_SIZE = 50


def _batch_worker(request: Request) -> Actor:
    """The logged-in operator if they may run batches, checked in a transaction of its own."""
    denied: PermissionDenied | None = None
    with db.transaction() as session:
        actor = pages.page_actor_in(request, session)
        try:
            iam_service.authorize(actor, "issuance.batch")
        except PermissionDenied as exc:
            iam_service.record_denied(session, permission="issuance.batch")
            denied = exc
    if denied is not None:
        raise PageRefused(refusal(request, denied))
    return actor


BatchWorker = Annotated[Actor, Depends(_batch_worker)]


@router.get("/pending", response_class=HTMLResponse)
def pending(request: Request, actor: BatchClerk, session: DbSession, p: str = "1") -> HTMLResponse:
    """The batch-mode applications of the clerk's region waiting for the next batch."""
    with refusing(request):
        found = batch_service.pending_applications(
            session, actor=actor, page=page_number(p), page_size=PAGE_SIZE
        )
    values = {"section": "batches", "pending": found}
    return page(request, "pending", values, actor=actor)


def _outcome(
    request: Request, actor: Actor, batch_no: str | None, extra: dict[str, Any], status: int
) -> HTMLResponse:
    """The batch's page (or the batch list) with the work's outcome above it."""
    with db.transaction() as session, refusing(request):
        if batch_no is None:
            name = "batches"
            values = {"section": "batches", "batches": batch_service.list_batches(session)}
        else:
            name, values = "batch", batch_values(session, batch_no)
        return page(request, name, {**values, **extra}, actor=actor, status_code=status)


def _failed(request: Request, actor: Actor, batch_no: str | None, exc: SSCardError) -> HTMLResponse:
    extra = {"work_error": mask_text(exc.message)}
    return _outcome(request, actor, batch_no, extra, exc.status_code)


@router.post("/batches/export", response_class=HTMLResponse)
def export(
    request: Request, actor: BatchWorker, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    """Export the waiting applications as a new batch (批量开户文件)."""
    try:
        pages.check_form_csrf(request, csrf_token)
        report = batch_export.export_batch(actor=actor)
    except SSCardError as exc:
        return _failed(request, actor, None, exc)
    lines = [f"已导出批次 {report.batch.batch_no}，共 {report.batch.card_count} 张卡"]
    if report.held:
        lines.append(f"暂缓报送 {report.held} 张（信息不全或代码未对照）")
    if report.unresolved_codes:
        lines.append(f"新增待对照代码 {report.unresolved_codes} 个")
    return _outcome(request, actor, report.batch.batch_no, {"work_done": lines}, 201)


@router.post("/batches/{batch_no}/send", response_class=HTMLResponse)
def send(
    request: Request, batch_no: str, actor: BatchWorker, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    """Send the batch to the province card centre (报送省卡管)."""
    try:
        pages.check_form_csrf(request, csrf_token)
        batch = batch_province.send_batch(batch_no=batch_no, actor=actor, encrypt=False)
    except SSCardError as exc:
        return _failed(request, actor, batch_no, exc)
    done = [f"批次 {batch.batch_no} 已报送省卡管（{batch.status_name}）"]
    return _outcome(request, actor, batch_no, {"work_done": done}, 200)


@router.post("/batches/{batch_no}/fetch", response_class=HTMLResponse)
def fetch(
    request: Request, batch_no: str, actor: BatchWorker, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    """Ask the province about the batch; download and check its result file when ready."""
    try:
        pages.check_form_csrf(request, csrf_token)
        report = batch_province.fetch_result(batch_no=batch_no, actor=actor, encrypt=False)
    except SSCardError as exc:
        return _failed(request, actor, batch_no, exc)
    if report.ready:
        done = ["制卡结果文件已下载并核验，可以导入"]
    else:
        done = [f"省卡管处理中（{report.province_status}）{report.province_detail}，请稍后再获取"]
    return _outcome(request, actor, batch_no, {"work_done": done}, 200)


@router.post("/batches/{batch_no}/result", response_class=HTMLResponse)
def import_result(
    request: Request,
    batch_no: str,
    actor: BatchWorker,
    csrf_token: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Import the card-making result: the fetched file, or one the clerk uploads."""
    upload: Path | None = None
    try:
        pages.check_form_csrf(request, csrf_token)
        if file is not None and file.filename:
            incoming = get_settings().data_dir / "batches" / "incoming"
            incoming.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=incoming, suffix=".upload", delete=False) as out:
                shutil.copyfileobj(file.file, out, 1024 * 1024)
            upload = Path(out.name)
        report = result_import.import_result(actor=actor, path=upload, batch_no=batch_no)
    except SSCardError as exc:
        return _failed(request, actor, batch_no, exc)
    finally:
        if upload is not None:
            upload.unlink(missing_ok=True)
    if report.already_imported:
        done = ["该结果文件已导入过，未做任何修改"]
    else:
        done = [
            f"制卡成功 {report.made} 张，制卡失败 {report.failed} 张，"
            f"拒收 {report.rejected} 行，已登记过 {report.unchanged} 张"
        ]
    return _outcome(request, actor, batch_no, {"work_done": done}, 200)
