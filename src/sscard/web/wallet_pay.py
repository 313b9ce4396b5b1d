"""付款 in the wallet: the payment code (付款码) a cashier scans, shown as grouped digits
and a QR that a script renews every minute (a reload link does the same without scripts),
and 扫一扫付款: read a merchant's collection code with the camera (the scan page's camera
script and decoder), a picture or the pasted text, confirm the merchant and the amount with
the e-card PIN, and see the result (成功 or 失败 with the reason, the order number and the
time in Beijing time).

Paying runs its own transactions: the resident is resolved and the charge ordered in one
that commits before the bank is asked, so no bank call waits inside a transaction.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import SecretStr
from sqlalchemy.orm import Session

from sscard import db
from sscard.ecard import service as ecard_service
from sscard.ecard.errors import ResidentSessionInvalid
from sscard.errors import SSCardError
from sscard.httpkit.deps import DbSession
from sscard.httpkit.units import UnitOfWorkRoute
from sscard.kit import access, context
from sscard.kit.masking import mask_text
from sscard.payments.codes import money
from sscard.payments.paycodes import pay_service, qr_service
from sscard.payments.paycodes import service as paycodes_service
from sscard.payments.paycodes.schemas import MerchantQrPayIn, PaycodeOut
from sscard.settings import get_settings
from sscard.web import pages
from sscard.web.registry.common import PageRefused
from sscard.web.wallet import (
    WALLET_COOKIE,
    CurrentResident,
    Resident,
    WalletLoginRequired,
    qr_svg,
    wallet_page,
)
from sscard.web.wallet_scan import scanned_text

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/wallet/pay", include_in_schema=False)
RESULT_NAMES = {
    "paid": "支付成功",
    "failed": "支付失败",
    "paying": "银行处理中",
    "ordered": "处理中",
}


def _code_json(code: PaycodeOut) -> dict[str, Any]:
    return {
        "code": code.code,
        "grouped": code.grouped,
        "svg": qr_svg(code.code),
        "expires_in": max(0, round(code.expires_at.timestamp() - time.time())),
        "ttl_seconds": code.ttl_seconds,
    }


def _refused(request: Request, exc: SSCardError) -> PageRefused:
    page = wallet_page(
        request, "refused", {"message": mask_text(exc.message)}, status_code=exc.status_code
    )
    return PageRefused(page)


# ---- 付款码 ----------------------------------------------------------------------------


@router.get("/code", response_class=HTMLResponse)
def code_page(request: Request, resident: CurrentResident, session: DbSession) -> HTMLResponse:
    """My payment code, or why my card cannot pay now (no code is shown then)."""
    try:
        code: dict[str, Any] | None = _code_json(
            paycodes_service.issue_paycode(session, person_id=resident.actor.id)
        )
        refusal = None
    except SSCardError as exc:
        code, refusal = None, exc.message
    limit = money.fen_to_yuan(get_settings().pay_no_pin_limit_fen)
    return wallet_page(
        request, "pay_code", {"code": code, "refusal": refusal, "no_pin_limit": limit}
    )


@router.post("/code")
def new_code(request: Request, resident: CurrentResident, session: DbSession) -> JSONResponse:
    """The next payment code for the page's script (JSON with the SVG)."""
    pages.check_form_csrf(request, request.headers.get("x-csrf-token"))
    code = paycodes_service.issue_paycode(session, person_id=resident.actor.id)
    return JSONResponse(_code_json(code), headers={"Cache-Control": "no-store"})


# ---- 扫一扫付款 ---------------------------------------------------------------------------


def _scan_page(request: Request, values: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    return wallet_page(
        request, "pay_scan", {"errors": {}, "text": "", **values}, status_code=status_code
    )


@router.get("/scan", response_class=HTMLResponse)
def scan_page(request: Request, resident_of: CurrentResident) -> HTMLResponse:
    """The scan screen for a merchant's collection code."""
    return _scan_page(request, {})


def _confirm_page(
    request: Request, session: Session, payload: str, values: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    shown = qr_service.preview(session, payload=payload)
    values = {"shown": shown, "payload": payload, "errors": {}, "amount": "", **values}
    return wallet_page(request, "pay_confirm", values, status_code=status_code)


@router.post("/scan", response_class=HTMLResponse)
def scanned(
    request: Request,
    resident_of: CurrentResident,
    session: DbSession,
    csrf_token: Annotated[str, Form()] = "",
    text: Annotated[str, Form(max_length=2000)] = "",
    image: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    """The merchant and the amount to confirm, or why the code cannot be paid."""
    try:
        pages.check_form_csrf(request, csrf_token)
        return _confirm_page(request, session, scanned_text(text, image), {})
    except SSCardError as exc:
        values = {
            "error": mask_text(exc.message),
            "errors": {"text": exc.fields[0].reason} if exc.fields else {},
            "text": text.strip()[:200],
        }
        raise PageRefused(_scan_page(request, values, status_code=exc.status_code)) from exc


def _resident_now(request: Request, session: Session) -> Resident:
    raw = request.cookies.get(WALLET_COOKIE, "")
    if not ecard_service.is_resident_token(raw):
        raise WalletLoginRequired()
    try:
        with access.suppress_reads(session):
            actor, record = ecard_service.resolve_session(session, raw=raw)
    except ResidentSessionInvalid as exc:
        raise WalletLoginRequired() from exc
    context.update(actor=actor, channel=record.channel_code)
    return Resident(actor, record)


@router.post("/confirm")
def confirm(request: Request, form: pages.FormFields) -> Response:
    """Pay with the e-card PIN; the result page follows (a refusal keeps the form)."""
    payload = form.get("payload", "")[:512]
    try:
        pages.check_form_csrf(request, form.get("csrf_token"))
        data = MerchantQrPayIn(
            payload=payload, amount=form.get("amount") or None, pin=SecretStr(form.get("pin", ""))
        )
        with db.transaction() as session:
            resident = _resident_now(request, session)
            ordered = pay_service.order_merchant_qr(
                session, person_id=resident.actor.id, data=data, actor=resident.actor
            )
        paid = pay_service.pay(ordered, actor=resident.actor)
    except SSCardError as exc:
        raise _refused_confirm(request, payload, form.get("amount", ""), exc) from exc
    return RedirectResponse(f"/wallet/pay/result/{paid.order_no}", status_code=303)


def _refused_confirm(request: Request, payload: str, amount: str, exc: SSCardError) -> PageRefused:
    values = {
        "error": mask_text(exc.message),
        "errors": {p.field: p.reason for p in exc.fields},
        "amount": amount.strip()[:16],
    }
    try:
        with db.transaction() as session:
            page = _confirm_page(request, session, payload, values, exc.status_code)
    except SSCardError as again:
        return _refused(request, again)
    return PageRefused(page)


@router.get("/result/{order_no}", response_class=HTMLResponse)
def result(
    order_no: str, request: Request, resident: CurrentResident, session: DbSession
) -> HTMLResponse:
    """成功 or 失败 with the reason, the order number and the time."""
    charge = paycodes_service.my_charge(
        session, person_id=resident.actor.id, order_no=order_no[:20]
    )
    if charge is None:
        missing = SSCardError("没有找到这笔付款", status_code=404, code="payment_not_found")
        raise _refused(request, missing)
    values = {
        "charge": charge,
        "status_name": RESULT_NAMES.get(charge.status, charge.status),
        "amount": money.fen_to_yuan(charge.amount_fen),
        "merchant_name": qr_service.merchant_name(session, merchant_code=charge.merchant_code),
    }
    return wallet_page(request, "pay_result", values)
