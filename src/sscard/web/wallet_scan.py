"""扫一扫 in the wallet: read a portal's login QR (``ELT`` ticket) with the camera where the
browser allows it, or from an uploaded picture or the pasted text, and finish the scan
login with the resident's session: the page names the portal and what it will learn, and
the resident confirms (确认登录) or cancels (取消). Pictures and camera frames are decoded
on the server with zxing-cpp as the terminal page does. Other QR codes (a merchant's
payment code, an e-card code) are named and not acted on."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse

from sscard.ecard.scanlogin import service as scanlogin
from sscard.ecard.scanlogin.errors import LoginTicketNotFound
from sscard.errors import FieldProblem, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.masking import mask_text
from sscard.settings import get_settings
from sscard.web import pages
from sscard.web.registry.common import PageRefused
from sscard.web.terminal import decode_qr
from sscard.web.wallet import CurrentResident, beijing, wallet_page

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/wallet/scan", include_in_schema=False)
OTHER_CODES = (
    ("ECR", "这是电子社保卡亮证凭证，请在“电子社保卡亮证核验”页面核验。"),
    ("EC", "这是电子社保卡二维码，应由医院、药店等的受理终端扫码核验。"),
    ("EO", "这是电子社保卡离线码，应由受理终端扫码核验。"),
)
NOT_LOGIN = "这不是政务网站的扫码登录二维码。商户收款码请用“扫一扫付款”扫码付款。"


def _scan_page(request: Request, values: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    return wallet_page(
        request, "scan", {"errors": {}, "text": "", **values}, status_code=status_code
    )


@router.get("", response_class=HTMLResponse)
def scan_page(request: Request, resident_of: CurrentResident) -> HTMLResponse:
    """The scan screen: camera where allowed, a picture or the pasted text otherwise."""
    return _scan_page(request, {})


def scanned_text(text: str, image: UploadFile | None) -> str:
    data = image.file.read(get_settings().max_body_bytes) if image and image.filename else b""
    if data:
        return decode_qr(data)
    if text.strip():
        return text.strip()
    reason = "请用摄像头扫码，或上传二维码图片，或粘贴二维码内容"
    raise ValidationFailed([FieldProblem("text", reason)], reason)


def _ticket_of(text: str) -> str:
    ticket_id = scanlogin.ticket_id_from_qr(text)
    if ticket_id is not None:
        return ticket_id
    reason = next((say for prefix, say in OTHER_CODES if text.startswith(prefix)), NOT_LOGIN)
    raise ValidationFailed([FieldProblem("text", reason)], reason)


def _preview_values(preview: Any) -> dict[str, Any]:
    return {"preview": preview, "expires": beijing(preview.expires_at, "%H:%M:%S")}


@router.post("", response_class=HTMLResponse)
def scanned(
    request: Request,
    resident_of: CurrentResident,
    session: DbSession,
    csrf_token: Annotated[str, Form()] = "",
    text: Annotated[str, Form(max_length=2000)] = "",
    image: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    """What was scanned: a portal's login request to confirm, or why it is not one."""
    try:
        pages.check_form_csrf(request, csrf_token)
        preview = scanlogin.preview(session, ticket_id=_ticket_of(scanned_text(text, image)))
    except SSCardError as exc:
        values = {
            "error": mask_text(exc.message),
            "errors": {p.field: p.reason for p in exc.fields},
            "text": text.strip()[:200],
        }
        raise PageRefused(_scan_page(request, values, status_code=exc.status_code)) from exc
    return wallet_page(request, "scan_login", _preview_values(preview))


@router.post("/decode")
def decode(
    request: Request,
    resident_of: CurrentResident,
    image: Annotated[UploadFile | None, File()] = None,
) -> JSONResponse:
    """The QR text in one camera frame, if there is one (the page then submits it)."""
    pages.check_form_csrf(request, request.headers.get("x-csrf-token"))
    data = image.file.read(get_settings().max_body_bytes) if image is not None else b""
    try:
        text = decode_qr(data)
    except ValidationFailed as exc:
        return JSONResponse({"found": False, "detail": exc.message})
    return JSONResponse({"found": True, "text": text}, headers={"Cache-Control": "no-store"})


@router.post("/{ticket_id}/{answer}", response_class=HTMLResponse)
def answer_login(
    ticket_id: str,
    answer: str,
    request: Request,
    resident: CurrentResident,
    session: DbSession,
    form: pages.FormFields,
) -> HTMLResponse:
    """确认登录 or 取消: the portal learns who logged in, or only that it was refused."""
    try:
        pages.check_form_csrf(request, form.get("csrf_token"))
        if len(ticket_id) > 32 or answer not in ("confirm", "refuse"):
            raise LoginTicketNotFound()
        act = scanlogin.confirm if answer == "confirm" else scanlogin.refuse
        preview = act(session, ticket_id=ticket_id, resident=resident.session)
    except SSCardError as exc:
        refused = wallet_page(
            request, "refused", {"message": exc.message}, status_code=exc.status_code
        )
        raise PageRefused(refused) from exc
    return wallet_page(request, "scan_login", {**_preview_values(preview), "answered": answer})
