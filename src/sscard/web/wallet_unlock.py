"""The wallet's way out of a locked (or forgotten) e-card PIN: ``/wallet/pin-reset``.

The holder proves who they are with the checks of signing (card number and card PIN, name,
a face photo taken now: the real-person check) and chooses a new e-card PIN; the e-card's
failure count starts again (``ecard.service.reset_pin``). Tries are limited per address; a
refusal rolls back and says which check failed. Nothing is kept in the page.
"""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import SecretStr

from sscard.ecard import service as ecard_service
from sscard.ecard.schemas import RealPerson, SignIn
from sscard.errors import FieldProblem, SSCardError, ValidationFailed
from sscard.httpkit.deps import DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit.context import SYSTEM
from sscard.kit.masking import mask_text
from sscard.settings import get_settings
from sscard.web import pages
from sscard.web.registry.common import PageRefused
from sscard.web.wallet import app_channels, throttle_logins, wallet_login_page

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/wallet", include_in_schema=False)

MAX_PHOTO_BYTES = 2 * 1024 * 1024
TEXT_FIELDS = ("id_number", "name", "card_number", "channel")


def _form_page(
    request: Request, session: DbSession, values: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    base = {"channels": app_channels(session), "errors": {}, "done": False, **values}
    response = pages.render(request, "wallet/pin_reset.html", base, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/pin-reset", response_class=HTMLResponse)
def pin_reset_form(request: Request, session: DbSession) -> HTMLResponse:
    """The form: card, card PIN, name, a face photo and the new e-card PIN."""
    return _form_page(request, session, {})


async def _photo(request: Request) -> bytes:
    form = await request.form()
    upload = form.get("face")
    if upload is None or isinstance(upload, str):
        raise ValidationFailed([FieldProblem("face", "请拍摄或上传本人人脸照片")])
    data = await upload.read(MAX_PHOTO_BYTES + 1)
    if not data or len(data) > MAX_PHOTO_BYTES:
        raise ValidationFailed([FieldProblem("face", "人脸照片为空或超过 2 MB")])
    return data


def _sign_in(form: dict[str, str], photo: bytes) -> SignIn:
    new_pin = form.get("ecard_pin", "")
    if new_pin != form.get("ecard_pin_again", ""):
        raise ValidationFailed([FieldProblem("ecard_pin_again", "两次输入的新密码不一致")])
    method = (
        "demo" if not get_settings().face_verifier and not get_settings().is_production else "face"
    )
    values = {
        "id_number": form.get("id_number", "").strip(),
        "name": form.get("name", "").strip(),
        "card_number": form.get("card_number", "").strip(),
        "card_pin": form.get("card_pin", ""),
        "channel_code": form.get("channel", "").strip(),
        "real_person": RealPerson(method=method, image_base64=base64.b64encode(photo).decode()),
        "ecard_pin": SecretStr(new_pin),
    }
    return pages.parsed(SignIn, values)


@router.post("/pin-reset", response_class=HTMLResponse)
async def pin_reset(request: Request, session: DbSession, form: pages.FormFields) -> Response:
    """Check the holder and set the new PIN; the login form follows."""
    try:
        pages.check_form_csrf(request, form.get("csrf_token"))
        throttle_logins(request, session)
        data = _sign_in(form, await _photo(request))
        ecard_service.reset_pin(session, data=data, actor=SYSTEM)
    except SSCardError as exc:
        values = {
            **{k: form.get(k, "") for k in TEXT_FIELDS},
            "error": mask_text(exc.message),
            "errors": {p.field: p.reason for p in exc.fields},
        }
        raise PageRefused(
            _form_page(request, session, values, status_code=exc.status_code)
        ) from exc
    notice = {"channel": form.get("channel", ""), "notice": "电子社保卡密码已重置，请用新密码登录"}
    return wallet_login_page(request, session, notice)
