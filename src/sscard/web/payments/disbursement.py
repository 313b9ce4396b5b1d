"""Benefit disbursement pages (待遇发放): the batches with an upload form, a batch's page
(totals sent, paid, failed, in suspense; its payment files; its lines by status; send and
fetch; XLSX export), and the failures queue (待处理失败) with retry and resolve.

Send and fetch talk to the banks in units of work of their own (as over the API and the
CLI), so those handlers hold no request session: the clerk is checked in a short
transaction first and the page is drawn in another one after the work. A refusal is shown
on the page in the clerk's words, never as a 500.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from sscard import db
from sscard.errors import FieldProblem, PermissionDenied, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.params import row_id
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.iam import service as iam_service
from sscard.kit.context import Actor
from sscard.kit.masking import mask_text
from sscard.payments.codes.money import fen_to_yuan
from sscard.payments.disbursement import dispatch, failures, service
from sscard.payments.disbursement.errors import LineNotFound
from sscard.payments.disbursement.schemas import (
    BATCH_STATUS_NAMES,
    LINE_STATUS_NAMES,
    BatchFilter,
    LineFilter,
    LineOut,
)
from sscard.settings import get_settings
from sscard.web import export, pages
from sscard.web.payments.common import (
    DisbursementManager,
    DisbursementReader,
    form_problems,
    redirect,
    refusal,
    refusing,
)
from sscard.web.payments.common import page as render_page
from sscard.web.registry.common import PageRefused, page_number

router = APIRouter(
    route_class=UnitOfWorkRoute, prefix="/payments/disbursements", include_in_schema=False
)
PAGE_SIZE = 50
BATCH_FILTERS = {"all": "全部", **{s.value: n for s, n in BATCH_STATUS_NAMES.items()}}
LINE_FILTERS = {"all": "全部", **{s.value: n for s, n in LINE_STATUS_NAMES.items()}}


def _worker(request: Request) -> Actor:
    """The logged-in operator if they may run disbursement, checked in its own transaction."""
    denied: PermissionDenied | None = None
    with db.transaction() as session:
        actor = pages.page_actor_in(request, session)
        try:
            iam_service.authorize(actor, "payments.disbursement.manage")
        except PermissionDenied as exc:
            iam_service.record_denied(session, permission="payments.disbursement.manage")
            denied = exc
    if denied is not None:
        raise PageRefused(refusal(request, denied))
    return actor


Worker = Annotated[Actor, Depends(_worker)]


@contextmanager
def _saved(upload: UploadFile) -> Iterator[Path]:
    """An uploaded file on disk for the length of the block."""
    incoming = get_settings().data_dir / "disbursement" / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=incoming, suffix=".upload", delete=False) as out:
        shutil.copyfileobj(upload.file, out, 1024 * 1024)
    path = Path(out.name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _list_page(
    request: Request, session: Session, actor: Actor, status: str, page: str, extra: dict[str, Any]
) -> HTMLResponse:
    wanted = BatchFilter(status) if status in BATCH_FILTERS else BatchFilter.all
    number = page_number(page)
    batches, total = service.list_batches(
        session, actor=actor, status=wanted, page=number, page_size=20
    )
    values = {
        "section": "disbursements",
        "batches": batches,
        "total": total,
        "page": number,
        "page_size": 20,
        "status": wanted.value,
        "status_filters": BATCH_FILTERS,
        "query": {"status": wanted.value},
        "yuan": fen_to_yuan,
        **extra,
    }
    return render_page(
        request, "disbursements", values, actor=actor, status_code=extra.pop("code", 200)
    )


@router.get("", response_class=HTMLResponse)
def batch_list(
    request: Request,
    actor: DisbursementReader,
    session: DbSession,
    status: str = "all",
    page: str = "1",
) -> HTMLResponse:
    """Benefit batches of the operator's region, newest first, and the upload form."""
    return _list_page(request, session, actor, status, page, {})


@router.post("", response_class=HTMLResponse)
def batch_import(
    request: Request,
    actor: DisbursementManager,
    session: DbSession,
    csrf_token: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Import an uploaded benefit file; a bad file comes back with every bad row named."""

    def again(exc: SSCardError) -> HTMLResponse:
        problems = form_problems(exc, {"file": "发放文件"})
        problems["alert"] = mask_text(exc.message)
        problems["rows"] = [(p.field, p.reason) for p in exc.fields if p.field != "file"]
        return _list_page(
            request, session, actor, "all", "1", {**problems, "code": exc.status_code}
        )

    with refusing(request, again):
        pages.check_form_csrf(request, csrf_token)
        if file is None or not file.filename:
            raise ValidationFailed([FieldProblem("file", "请选择要导入的发放文件")])
        with _saved(file) as path:
            batch = service.import_file(session, path=path, source_name=file.filename, actor=actor)
    return redirect(f"/payments/disbursements/{batch.batch_no}", "disbursement-imported")


def _detail(
    request: Request,
    session: Session,
    actor: Actor,
    batch_no: str,
    *,
    status: str = "all",
    page: str = "1",
    extra: dict[str, Any] | None = None,
    code: int = 200,
) -> HTMLResponse:
    batch = service.batch_out(session, service.get_batch(session, batch_no=batch_no, actor=actor))
    wanted = LineFilter(status) if status in LINE_FILTERS else LineFilter.all
    number = page_number(page)
    lines, total = service.list_lines(
        session, actor=actor, batch_no=batch_no, status=wanted, page=number, page_size=PAGE_SIZE
    )
    values = {
        "section": "disbursements",
        "batch": batch,
        "files": service.list_files(session, batch_no=batch_no, actor=actor),
        "lines": lines,
        "total": total,
        "page": number,
        "page_size": PAGE_SIZE,
        "status": wanted.value,
        "status_filters": LINE_FILTERS,
        "query": {"status": wanted.value},
        "yuan": fen_to_yuan,
        **(extra or {}),
    }
    return render_page(request, "disbursement", values, actor=actor, status_code=code)


@router.get("/failures", response_class=HTMLResponse)
def failure_queue(
    request: Request, actor: DisbursementReader, session: DbSession, page: str = "1"
) -> HTMLResponse:
    """The failures queue (待处理失败): failed lines with their reason; retry or resolve."""
    number = page_number(page)
    lines, total = service.list_lines(
        session,
        actor=actor,
        batch_no=None,
        status=LineFilter.failed,
        page=number,
        page_size=PAGE_SIZE,
    )
    values = {
        "section": "disbursements",
        "lines": lines,
        "total": total,
        "page": number,
        "page_size": PAGE_SIZE,
        "yuan": fen_to_yuan,
    }
    return render_page(request, "disbursement_failures", values, actor=actor)


def _line_id(raw: str) -> int:
    wanted = row_id(raw)
    if wanted is None:
        raise LineNotFound(f"发放明细 {raw[:20]} 不存在")
    return wanted


@router.post("/lines/{line_id}/resolve", response_class=HTMLResponse)
def resolve(
    request: Request,
    line_id: str,
    actor: DisbursementManager,
    session: DbSession,
    form: pages.FormFields,
) -> Response:
    """Close a failed line by hand with a reason (its money returns to the fund)."""
    with refusing(request):
        pages.check_form_csrf(request, form.get("csrf_token"))
        note = form.get("note", "").strip()
        if len(note) < 2:
            raise ValidationFailed(
                [FieldProblem("note", "请填写处理说明（至少 2 个字）")],
                "处理说明：请填写处理说明（至少 2 个字）",
            )
        failures.resolve_line(session, line_id=_line_id(line_id), note=note[:200], actor=actor)
    return redirect("/payments/disbursements/failures", "line-resolved")


@router.post("/lines/{line_id}/retry", response_class=HTMLResponse)
def retry(
    request: Request,
    line_id: str,
    actor: DisbursementManager,
    session: DbSession,
    form: pages.FormFields,
) -> Response:
    """Retry a failed line to the person's live card (sent with the batch's next send)."""
    with refusing(request):
        pages.check_form_csrf(request, form.get("csrf_token"))
        line = failures.retry_line(session, line_id=_line_id(line_id), actor=actor)
        batch_no = service.get_batch_no(session, line=line)
    return redirect(f"/payments/disbursements/{batch_no}", "line-retried")


@router.get("/{batch_no}", response_class=HTMLResponse)
def batch_detail(
    request: Request,
    batch_no: str,
    actor: DisbursementReader,
    session: DbSession,
    status: str = "all",
    page: str = "1",
) -> HTMLResponse:
    """A batch: totals, payment files, lines by status, and the send and fetch actions."""
    with refusing(request):
        return _detail(request, session, actor, batch_no, status=status, page=page)


@router.get("/{batch_no}/export")
def batch_export(
    request: Request,
    batch_no: str,
    actor: DisbursementReader,
    session: DbSession,
    format: str = "xlsx",  # noqa: A002 - the query parameter every export page uses
) -> Response:
    """The batch's lines (masked, as the page shows them) as XLSX or CSV."""
    with refusing(request):
        export.check_format(format)
        lines, _ = service.list_lines(
            session,
            actor=actor,
            batch_no=batch_no,
            status=LineFilter.all,
            page=1,
            page_size=export.MAX_ROWS,
        )
        columns: list[export.Column[LineOut]] = [
            export.Column("明细号", lambda x: x.id),
            export.Column("行号", lambda x: x.row_no),
            export.Column("社会保障号码", lambda x: x.id_number),
            export.Column("姓名", lambda x: x.name),
            export.Column("社保卡号", lambda x: x.card_number),
            export.Column("服务银行", lambda x: x.bank_code),
            export.Column("银行账号", lambda x: x.bank_account),
            export.Column("金额（元）", lambda x: fen_to_yuan(x.amount_fen)),
            export.Column("状态", lambda x: x.status_name),
            export.Column("失败原因", lambda x: x.fail_reason or ""),
            export.Column("处理说明", lambda x: x.note or ""),
            export.Column("更新时间（北京时间）", lambda x: x.updated_at),
        ]
        return export.export(
            lines, columns, fmt=format, name=f"disbursement-{batch_no}", title=f"待遇发放{batch_no}"
        )


def _after_run(
    request: Request, actor: Actor, batch_no: str, extra: dict[str, Any], code: int
) -> HTMLResponse:
    with db.transaction() as session, refusing(request):
        return _detail(request, session, actor, batch_no, extra=extra, code=code)


@router.post("/{batch_no}/send", response_class=HTMLResponse)
def send(
    request: Request, batch_no: str, actor: Worker, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    """Write and deliver a payment file per bank (发送银行)."""
    try:
        pages.check_form_csrf(request, csrf_token)
        report = dispatch.send_batch(batch_no=batch_no, actor=actor)
    except SSCardError as exc:
        return _after_run(
            request, actor, batch_no, {"alert": mask_text(exc.message)}, exc.status_code
        )
    done = [f"已发送 {report.files_sent} 个发放文件"]
    return _after_run(request, actor, batch_no, {"work_done": done}, 200)


@router.post("/{batch_no}/fetch", response_class=HTMLResponse)
def fetch(
    request: Request, batch_no: str, actor: Worker, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    """Download and apply the banks' return files (获取回盘)."""
    try:
        pages.check_form_csrf(request, csrf_token)
        report = dispatch.fetch_returns(batch_no=batch_no, actor=actor)
    except SSCardError as exc:
        return _after_run(
            request, actor, batch_no, {"alert": mask_text(exc.message)}, exc.status_code
        )
    done = [
        f"已导入 {report.files_returned} 个回盘文件：到账 {report.lines_paid} 笔，"
        f"失败 {report.lines_failed} 笔（资金已挂账，见待处理失败）"
    ]
    return _after_run(request, actor, batch_no, {"work_done": done}, 200)
