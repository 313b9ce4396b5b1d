"""The terminal page (扫码核验) for operators with ``ecard.verify``: a counter, or a demo of a
library, hospital or park terminal.

The operator chooses the scenario, then pastes the scanned code text (a scanner gun types
it), uploads a photo or screenshot of the QR code, or lets the camera find it. Images are
decoded on the server with zxing-cpp; the camera's frames go to ``/terminal/decode`` until
one holds a code. The result shows only the holder attributes the scenario may see, the
proxy marker, or the refusal (invalid, expired, already used, suspended, revoked) in words
and colour. A refusal is raised as :class:`PageRefused` so that the unit of work rolls back
and the e-card service keeps its record of the refused attempt.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Annotated, Any

import zxingcpp
from fastapi import APIRouter, Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session

from sscard.ecard.codes import qr
from sscard.ecard.codes import service as codes_service
from sscard.ecard.codes.schemas import VerificationOut
from sscard.errors import FieldProblem, PermissionDenied, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.iam import service as iam_service
from sscard.kit.context import Actor
from sscard.kit.masking import mask_text
from sscard.scenarios import catalog
from sscard.scenarios import service as scenarios_service
from sscard.settings import get_settings
from sscard.web import pages
from sscard.web.pages import PageActor, render
from sscard.web.registry.common import PageRefused

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/terminal", include_in_schema=False)

MAX_SIDE = 2000
"""Larger photos are scaled down before decoding (a QR needs far fewer pixels)."""
MAX_PIXELS = 40_000_000
QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
SCENARIOS = ("library", "hospital", "park", "bus", "counter", "pharmacy")
"""The order scenarios are offered in; others the platform defines follow."""

REFUSALS: dict[str, tuple[str, str, str]] = {
    "code_invalid": (
        "二维码无效", "invalid", "这不是有效的电子社保卡二维码，或二维码内容已被改动。"
    ),
    "code_expired": ("二维码已过期", "expired", "二维码超过有效期，请持卡人刷新后重新出示。"),
    "code_already_used": (
        "二维码已被使用", "used", "该二维码已核验过，不能重复使用。请持卡人刷新后重新出示。"
    ),
    "card_suspended": (
        "卡已挂失，暂停使用", "suspended", "持卡人的社会保障卡已挂失，电子社保卡暂停使用。"
    ),
    "card_revoked": ("电子社保卡已注销", "revoked", "持卡人的电子社保卡已注销，不能使用。"),
}  # fmt: skip
"""code -> (headline, colour class, what to tell the holder)."""
PERMISSION_NAMES = {"ecard.verify": "核验电子社保卡二维码", "ecard.sign": "柜台签发电子社保卡"}


# ---- operator pages: permission and refusals (shared with the counter signing page) --------


def refusal(request: Request, exc: SSCardError, actor: Actor | None) -> HTMLResponse:
    """The page answering a request the operator may not make."""
    permission = PERMISSION_NAMES.get(getattr(exc, "permission", ""), "")
    values = {
        "title": "没有权限" if exc.status_code == 403 else "无法完成操作",
        "message": f"当前账户没有“{permission}”权限" if permission else mask_text(exc.message),
        "code": exc.code,
        "permission": permission,
    }
    response = render(
        request, "terminal/refused.html", values, status_code=exc.status_code, actor=actor
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def allowed(permission: str) -> Callable[..., Actor]:
    """A dependency: the logged-in operator if they hold ``permission``, else a refusal page."""

    def dependency(request: Request, actor: PageActor, session: DbSession) -> Actor:
        try:
            iam_service.authorize(actor, permission)
        except PermissionDenied as exc:
            iam_service.record_denied(session, permission=permission)
            raise PageRefused(refusal(request, exc, actor)) from exc
        return actor

    dependency.__name__ = f"page_requires_{permission.replace('.', '_')}"
    return dependency


Verifier = Annotated[Actor, Depends(allowed("ecard.verify"))]


def install(app: FastAPI) -> None:
    app.include_router(router)


# ---- decoding images -------------------------------------------------------------------------


def decode_qr(data: bytes) -> str:
    """The text of the first QR code in an image, or ValidationFailed naming the image."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise _image_problem("图片尺寸过大，请上传不超过 4000 万像素的图片")
            opened.draft("L", (MAX_SIDE, MAX_SIDE))
            image = ImageOps.exif_transpose(opened).convert("L")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise _image_problem("无法识别的图片，请上传 JPEG 或 PNG 格式的照片或截图") from exc
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    found = zxingcpp.read_barcodes(image, formats=QR_ONLY)
    texts = [str(b.text) for b in found if b.valid and b.text]
    if not texts:
        raise _image_problem("图片中没有找到二维码，请对准二维码重新拍摄，或上传更清晰的截图")
    return texts[0]


def _image_problem(reason: str) -> ValidationFailed:
    return ValidationFailed([FieldProblem("image", reason)], reason)


# ---- the page --------------------------------------------------------------------------------


def _scenarios(session: Session) -> list[tuple[str, str]]:
    listed = {s.code: s.name for s in scenarios_service.list_scenarios(session)}
    order = [c for c in SCENARIOS if c in listed] + sorted(set(listed) - set(SCENARIOS))
    return [(code, listed[code]) for code in order]


def _page(
    request: Request,
    actor: Actor,
    session: Session,
    values: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    scenarios = _scenarios(session)
    chosen = values.get("scenario") or ""
    if chosen not in {code for code, _ in scenarios}:
        chosen = scenarios[0][0] if scenarios else ""
    context_values = {
        "section": "terminal",
        "scenarios": scenarios,
        "businesses": {int(b): name for b, name in qr.BUSINESS_NAMES.items()},
        "errors": {},
        **values,
        "scenario": chosen,
    }
    response = render(
        request, "terminal/terminal.html", context_values, status_code=status_code, actor=actor
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("", response_class=HTMLResponse)
def terminal(
    request: Request, actor: Verifier, session: DbSession, scenario: str = ""
) -> HTMLResponse:
    """Choose the scenario and scan, paste or upload a code."""
    return _page(request, actor, session, {"scenario": scenario.strip()})


def _item(value: object) -> str:
    name, colon, status = str(value).partition(":")
    return f"{name}（{status}）" if colon else name


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "有效" if value else "无效"
    if isinstance(value, list):
        return "；".join(_item(v) for v in value) or "无"
    return str(value)


def result_view(result: VerificationOut, scenario_name: str) -> dict[str, Any]:
    """What the result panel shows: the attributes in the scenario's order, with labels."""
    return {
        "scenario_name": scenario_name,
        "business_name": qr.BUSINESS_NAMES.get(qr.Business(result.business), ""),
        "proxy": result.proxy,
        "verified_at": result.verified_at,
        "rows": [
            (key, catalog.ATTRIBUTES.get(key, key), _shown(value))
            for key, value in result.holder.items()
        ],
    }


def _code_text(code: str, image: UploadFile | None) -> str:
    limit = get_settings().max_body_bytes
    data = image.file.read(limit) if image is not None and image.filename else b""
    if data:
        return decode_qr(data)
    if code.strip():
        return code.strip()
    reason = "请扫描或粘贴二维码内容，或上传二维码图片"
    raise ValidationFailed([FieldProblem("code", reason)], reason)


@router.post("/verify", response_class=HTMLResponse)
def verify(
    request: Request,
    actor: Verifier,
    session: DbSession,
    csrf_token: Annotated[str, Form()] = "",
    scenario: Annotated[str, Form()] = "",
    business: Annotated[str, Form()] = "",
    code: Annotated[str, Form(max_length=2000)] = "",
    image: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    """Verify the code once for the chosen scenario and show what the scenario may see."""
    names = dict(_scenarios(session))
    values: dict[str, Any] = {"scenario": scenario, "business": business}
    try:
        pages.check_form_csrf(request, csrf_token)
        text = _code_text(code, image)
        result = codes_service.verify_code(
            session,
            text=text,
            business=int(business) if business.isdigit() else None,
            scenario_code=scenario,
            actor=actor,
        )
    except SSCardError as exc:
        values |= _refused_values(exc)
        page = _page(request, actor, session, values, status_code=exc.status_code)
        raise PageRefused(page) from exc
    values["result"] = result_view(result, names.get(scenario, scenario))
    return _page(request, actor, session, values)


def _refused_values(exc: SSCardError) -> dict[str, Any]:
    if exc.code in REFUSALS:
        headline, colour, advice = REFUSALS[exc.code]
        refused = {
            "code": exc.code,
            "headline": headline,
            "colour": colour,
            "message": mask_text(exc.message),
            "advice": advice,
        }
        return {"refused": refused}
    return {
        "alert": mask_text(exc.message),
        "errors": {p.field: p.reason for p in exc.fields},
    }


@router.post("/decode")
def decode(
    request: Request,
    _actor: Verifier,
    image: Annotated[UploadFile | None, File()] = None,
) -> JSONResponse:
    """The code in one camera frame, if there is one (the page then verifies it)."""
    pages.check_form_csrf(request, request.headers.get("x-csrf-token"))
    data = image.file.read(get_settings().max_body_bytes) if image is not None else b""
    try:
        text = decode_qr(data)
    except ValidationFailed as exc:
        return JSONResponse({"found": False, "detail": exc.message})
    return JSONResponse({"found": True, "code": text}, headers={"Cache-Control": "no-store"})
