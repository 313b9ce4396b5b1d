"""The person import page (人员批量导入): upload a CSV or XLSX, follow the job, fetch its rejects.

The upload runs the same service as ``POST /api/v1/imports`` and the job runs in the
background; the job's page reads a small JSON route every second while it runs. An
operator whose institution serves one region sees the jobs they started; a platform-wide
operator sees every job.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.datastructures import UploadFile

from sscard.errors import FieldProblem, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.params import row_id
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import Actor
from sscard.kit.masking import mask_text
from sscard.registry.imports import job as import_job
from sscard.registry.imports import rejects
from sscard.registry.imports import service as imports_service
from sscard.registry.imports.errors import ImportJobNotFound
from sscard.registry.imports.schemas import ImportJobOut
from sscard.registry.units.errors import EmployerNotFound
from sscard.settings import get_settings
from sscard.web import pages
from sscard.web.registry.common import (
    Importer,
    form_problems,
    redirect_with_flash,
    refusing,
    render_page,
)

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/registry", include_in_schema=False)

STATUS_NAMES = {
    "pending": "等待导入",
    "running": "正在导入",
    "completed": "已完成",
    "failed": "失败",
}
REJECT_HEADER = "行号,证件号码（已脱敏）,拒绝原因\r\n".encode()
FILE_TYPES = (".csv", ".xlsx")
UPLOAD_INPUTS = {"file", "employer_credit_code"}


def _size_text(size: int) -> str:
    return f"{size // (1024 * 1024)} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"


def job_view(job: ImportJobOut) -> dict[str, Any]:
    """What the page and its JSON route show of a job: counts, status in words, percent."""
    done = job.rows_created + job.rows_updated + job.rows_unchanged + job.rows_rejected
    finished = job.status == "completed"
    percent = 100 if finished else min(99, done * 100 // job.rows_total) if job.rows_total else 0
    return {
        "id": job.id,
        "file_name": job.file_name,
        "status": job.status,
        "status_name": STATUS_NAMES.get(job.status, job.status),
        "rows_total": job.rows_total,
        "done": done,
        "percent": percent,
        "imported": job.rows_created,
        "updated": job.rows_updated,
        "unchanged": job.rows_unchanged,
        "rejected": job.rows_rejected,
        "next_line": job.next_line or 2,
        "has_rejects": job.has_rejects,
        "rejects_url": f"/registry/imports/{job.id}/rejects.csv" if job.has_rejects else None,
        "error": job.error,
        "created_at": pages.beijing(job.created_at, "seconds"),
        "finished_at": pages.beijing(job.finished_at, "seconds") if job.finished_at else None,
        "finished": job.status in ("completed", "failed"),
    }


def _imports_page(
    request: Request,
    actor: Actor,
    session: DbSession,
    values: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    status = values.get("status", "all")
    found = imports_service.jobs_in_scope(
        session, actor=actor, status=None if status == "all" else status
    )
    limit = get_settings().max_upload_bytes
    context_values = {
        "section": "imports",
        "errors": {},
        "values": {},
        "status": status,
        "status_names": STATUS_NAMES,
        "jobs": [job_view(imports_service.job_out(job)) for job in found],
        "max_upload_bytes": limit,
        "max_upload_text": _size_text(limit),
        **values,
    }
    return render_page(request, "imports", context_values, actor=actor, status_code=status_code)


@router.get("/imports", response_class=HTMLResponse)
def import_list(
    request: Request, actor: Importer, session: DbSession, status: str = "all"
) -> HTMLResponse:
    """The upload form and the recent import jobs, filtered by status (or all)."""
    status = status if status in STATUS_NAMES else "all"
    return _imports_page(request, actor, session, {"status": status})


async def _uploaded(request: Request) -> UploadFile | None:
    """The posted file, if the form carried one with a name."""
    form = await request.form()
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        return upload
    return None


Upload = Annotated[UploadFile | None, Depends(_uploaded)]


def _checked_upload(upload: UploadFile | None) -> UploadFile:
    if upload is None:
        raise ValidationFailed([FieldProblem("file", "请选择要导入的 CSV 或 XLSX 文件")])
    name = (upload.filename or "").lower()
    if not name.endswith(FILE_TYPES):
        raise ValidationFailed(
            [FieldProblem("file", "只能导入 CSV 或 XLSX 文件（扩展名 .csv 或 .xlsx）")]
        )
    return upload


@router.post("/imports", response_class=HTMLResponse)
def import_upload(
    request: Request,
    actor: Importer,
    session: DbSession,
    background: BackgroundTasks,
    form: pages.FormFields,
    upload: Upload,
) -> Response:
    """Upload a file: its job opens and runs in the background; the job's page follows it."""
    credit_code = form.get("employer_credit_code", "").strip()

    def again(exc: SSCardError) -> HTMLResponse:
        problems = form_problems(exc, UPLOAD_INPUTS)
        if not exc.fields or exc.code == "import_job_busy":
            problems["errors"] = {"file": [mask_text(exc.message)]}
        values = {"values": {"employer_credit_code": credit_code}, **problems}
        return _imports_page(request, actor, session, values, status_code=exc.status_code)

    with refusing(request, again):
        pages.check_form_csrf(request, form.get("csrf_token"))
        checked = _checked_upload(upload)
        try:
            opened = imports_service.submit_upload(
                session,
                checked.file,
                file_name=checked.filename or "upload",
                actor=actor,
                employer_credit_code=credit_code or None,
                again=form.get("again") == "1",
            )
        except EmployerNotFound as exc:
            reason = "没有这个统一社会信用代码的单位，请先登记单位或核对代码"
            raise ValidationFailed([FieldProblem("employer_credit_code", reason)]) from exc
    if opened.runnable:
        background.add_task(import_job.run_in_background, opened.job.id, actor)
        flash = "import_started"
    else:
        flash = "import_done_before"
    return redirect_with_flash(f"/registry/imports/{opened.job.id}", flash)


def _job(request: Request, session: DbSession, actor: Actor, job_id: str) -> ImportJobOut:
    with refusing(request):
        wanted = row_id(job_id)
        if wanted is None:
            raise ImportJobNotFound(f"导入任务 {job_id[:20]} 不存在")
        job = imports_service.job_in_scope(session, job_id=wanted, actor=actor)
    return imports_service.job_out(job)


@router.get("/imports/{job_id}", response_class=HTMLResponse)
def import_detail(
    request: Request, job_id: str, actor: Importer, session: DbSession
) -> HTMLResponse:
    """One job: live progress while it runs, the final counts, the rejects to download."""
    job = job_view(_job(request, session, actor, job_id))
    values = {"section": "imports", "job": job, "status_names": STATUS_NAMES}
    return render_page(request, "import", values, actor=actor)


@router.get("/imports/{job_id}/progress", response_class=JSONResponse)
def import_progress(
    request: Request, job_id: str, actor: Importer, session: DbSession
) -> JSONResponse:
    """The job's status and counts, read by its page every second while it runs."""
    job = job_view(_job(request, session, actor, job_id))
    return JSONResponse(job, headers={"Cache-Control": "no-store"})


@router.get("/imports/{job_id}/rejects.csv", response_class=StreamingResponse)
def import_rejects(
    request: Request, job_id: str, actor: Importer, session: DbSession
) -> StreamingResponse:
    """拒绝明细: line, masked ID number and the reasons in Chinese (CSV, UTF-8 with BOM)."""
    job = _job(request, session, actor, job_id)
    with refusing(request):
        path, count = imports_service.committed_rejects(session, job_id=job.id)

    def lines() -> Iterator[bytes]:
        stored = rejects.reject_lines(path, count)
        next(stored, None)
        yield b"\xef\xbb\xbf" + REJECT_HEADER
        yield from stored

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="import-{job.id}-rejects.csv"; '
            f"filename*=UTF-8''%E6%8B%92%E7%BB%9D%E6%98%8E%E7%BB%86-{job.id}.csv",
        },
    )
