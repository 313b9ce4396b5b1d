"""The bank's online-banking pay page (网银支付页), reached by the resident's browser.

1. ``GET /paypage?req=...&sig=...``: the platform's signed pay request (see
   ``sscard.payments.online.signing``). The bank checks the signature against the public
   key the platform published as ``<PEER_TRUST_DIR>/<signer>.pem``; a bad one gets a
   refusal page and nothing else.
2. The page is the stand-in for the bank's login: the resident types the account number
   and a password (any non-empty one) and confirms.
3. ``POST /paypage/confirm``: the bank debits the account in its books once per order
   (a second confirm does not debit again), records the payment, sends the signed notice
   to ``notify_url`` in the background (retried until the platform answers 2xx or a
   refusal), and sends the browser back to ``return_url?order_no=...``.

``POST /paypage/refund`` takes the platform's signed refund request (退款请求) for an order
paid here and credits the paying account back, once per refund number and never more than
is left of the payment; the credit is in the books' ``payments`` as ``ref:<refund_no>``,
so the daily file lists it like card refunds.

``POST /paypage/status`` answers a status query (of an order, or of a refund).
``/control/paypage`` lets tests hold notices back, read the signed notice of an order,
and send it again. Records of the payments are in ``books_of(app.state).paypage`` (see
docs/peers.md, "bank: pay page"), and each debit is also in the books' ``payments`` by
order number, beside the card debits, so
the bank's daily file lists it.
"""

from __future__ import annotations

import html
import logging
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from peers.bank.batch import bank
from peers.bank.store import Books, Payment, books_of, now
from sscard.crypto import pem
from sscard.payments.online import signing

router = APIRouter(tags=["pay page"])
log = logging.getLogger("peers.bank.paypage")
NOTICE_TRIES = 5


@dataclass
class PagePayment:
    """One order paid on the pay page: what the bank's daily file lists."""

    ref: str
    """The platform's order number (the reference reconciliation matches on)."""
    bank_code: str
    kind: str
    card_number: str
    account: str
    amount_fen: int
    status: str
    at: str
    bank_ref: str
    notice: str
    """The signed notice body (canonical JSON) as sent to the platform."""
    signature: str
    notify_url: str
    notices_sent: int = 0


class PageBook:
    """Pay-page payments by order number, and whether notices are held back (tests)."""

    def __init__(self) -> None:
        self.payments: dict[str, PagePayment] = {}
        self.hold_notices = False
        self.refunds: dict[str, dict[str, Any]] = {}
        """The answer given to each refund number (a replay gets it again)."""
        self.refunded: dict[str, int] = {}
        """Fen credited back per order number."""


def _page_book(request: Request) -> tuple[Books, PageBook]:
    books = books_of(request.app.state)
    with books.lock:
        found = getattr(books, "paypage", None)
        if found is None:
            found = PageBook()
            books.paypage = found  # type: ignore[attr-defined]
    return books, found


PageDep = Annotated[tuple[Books, PageBook], Depends(_page_book)]


def _html(title: str, body: str, status: int = 200) -> HTMLResponse:
    page = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body><main>"
        f"<h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(page, status_code=status)


def _refused_page(reason: str, status: int = 400) -> HTMLResponse:
    return _html("网银支付失败", f'<p role="alert">{html.escape(reason)}</p>', status)


def verified_request(
    req: str, sig: str, fields: frozenset[str] = signing.REQUEST_FIELDS
) -> dict[str, Any]:
    """The pay (or refund) request, if the platform's signature holds (else ``BadMessage``)."""
    data = signing.request_bytes(req)
    message = signing.parse(data, fields)
    signer = str(message["signer"])
    if not signer.replace("-", "").isalnum():
        raise signing.BadMessage("支付请求的签名方不正确")
    path = bank().config.trust_dir / f"{signer}.pem"
    if not path.is_file():
        raise signing.BadMessage("本行未登记该平台的签名公钥")
    public = pem.load_public_key(path.read_bytes())
    if not public.verify(data, signing.signature_bytes(sig)):
        raise signing.BadMessage("支付请求的签名无效，可能被篡改")
    return message


@router.get("/paypage", response_class=HTMLResponse, summary="The pay page (网银支付)")
def pay_page(req: str = "", sig: str = "") -> HTMLResponse:
    try:
        message = verified_request(req, sig)
    except signing.BadMessage as exc:
        return _refused_page(str(exc))
    yuan = f"{message['amount_fen'] // 100}.{message['amount_fen'] % 100:02d}"
    body = (
        f"<p>收款方：{html.escape(str(message['merchant_name']))}</p>"
        f"<p>订单号：{html.escape(str(message['order_no']))}</p>"
        f"<p>商品：{html.escape(str(message['subject']))}</p>"
        f'<p>金额：<strong id="amount">{yuan}</strong> 元</p>'
        '<form method="post" action="/paypage/confirm">'
        f'<input type="hidden" name="req" value="{html.escape(req)}">'
        f'<input type="hidden" name="sig" value="{html.escape(sig)}">'
        '<p><label>银行卡号 <input name="account" inputmode="numeric" required></label></p>'
        '<p><label>登录密码 <input name="password" type="password" required></label></p>'
        '<button type="submit">确认支付</button></form>'
    )
    return _html(f"网银支付 {message['bank_code']}", body)


def _notice(message: dict[str, Any], paid_at: str, bank_ref: str) -> bytes:
    return signing.canonical(
        {
            "notice_id": f"{message['bank_code']}-{message['order_no']}",
            "bank_code": message["bank_code"],
            "order_no": message["order_no"],
            "amount_fen": message["amount_fen"],
            "status": "paid",
            "bank_ref": bank_ref,
            "paid_at": paid_at,
        }
    )


def _debit(books: Books, page: PageBook, message: dict[str, Any], account_no: str) -> str:
    """Debit the account once per order; the refusal in words, or '' when paid."""
    bank_code, order_no = str(message["bank_code"]), str(message["order_no"])
    with books.lock:
        if order_no in page.payments:
            return ""
        account = books.accounts.get((bank_code, account_no))
        if account is None or account.status != "active":
            return "银行卡号不正确或账户未启用"
        if account.balance_fen < int(message["amount_fen"]):
            return "账户余额不足"
        account.post(-int(message["amount_fen"]), "payment", f"网银支付 {order_no}")
        paid_at = now().isoformat()
        bank_ref = "W" + secrets.token_hex(8).upper()
        notice = _notice(message, paid_at, bank_ref)
        signature = bank().signer.sign(notice).hex()
        books.payments[order_no] = Payment(
            ref=order_no,
            kind="debit",
            bank_code=bank_code,
            card_number=account.card_number,
            account=account_no,
            amount_fen=int(message["amount_fen"]),
            status="done",
            reason_code=None,
            reason="网银支付",
            at=datetime.fromisoformat(paid_at),
        )
        page.payments[order_no] = PagePayment(
            ref=order_no,
            bank_code=bank_code,
            kind="debit",
            card_number=account.card_number,
            account=account_no,
            amount_fen=int(message["amount_fen"]),
            status="done",
            at=paid_at,
            bank_ref=bank_ref,
            notice=notice.decode("utf-8"),
            signature=signature,
            notify_url=str(message["notify_url"]),
        )
    return ""


def send_notice(payment: PagePayment, tries: int = NOTICE_TRIES) -> int | None:
    """POST the signed notice to the platform until it answers (the HTTP status)."""
    pause = 0.2
    for _ in range(tries):
        try:
            answer = httpx.post(
                payment.notify_url,
                content=payment.notice.encode("utf-8"),
                headers={
                    "Content-Type": "application/json",
                    signing.SIGNATURE_HEADER: payment.signature,
                },
                timeout=15,
            )
            payment.notices_sent += 1
            if answer.status_code < 500:
                return answer.status_code
        except httpx.HTTPError as exc:
            log.warning("notice to platform failed: %s", type(exc).__name__)
        time.sleep(pause)
        pause *= 2
    return None


@router.post("/paypage/confirm", summary="Confirm and debit (网银支付确认)")
async def confirm(request: Request, page_dep: PageDep) -> Response:
    books, page = page_dep
    form = await request.form()
    req, sig = str(form.get("req", "")), str(form.get("sig", ""))
    account_no, password = str(form.get("account", "")).strip(), str(form.get("password", ""))
    try:
        message = verified_request(req, sig)
    except signing.BadMessage as exc:
        return _refused_page(str(exc))
    if not password:
        return _refused_page("请输入登录密码", 422)
    reason = _debit(books, page, message, account_no)
    if reason:
        return _refused_page(reason, 422)
    payment = page.payments[str(message["order_no"])]
    if not page.hold_notices and payment.notices_sent == 0:
        threading.Thread(target=send_notice, args=(payment,), daemon=True).start()
    back = f"{message['return_url']}?{urlencode({'order_no': message['order_no']})}"
    return RedirectResponse(back, status_code=303)


class RefundIn(BaseModel):
    req: str = Field(min_length=1, max_length=4000)
    sig: str = Field(min_length=1, max_length=400)


def _credit_back(books: Books, page: PageBook, message: dict[str, Any]) -> dict[str, Any]:
    """Credit the paying account once per refund number; the answer (also kept)."""
    order_no, refund_no = str(message["order_no"]), str(message["refund_no"])
    bank_code, amount = str(message["bank_code"]), int(message["amount_fen"])
    with books.lock:
        known = page.refunds.get(refund_no)
        if known is not None:
            return known
        paid = page.payments.get(order_no)
        account = books.accounts.get((bank_code, paid.account)) if paid else None
        left = paid.amount_fen - page.refunded.get(order_no, 0) if paid else 0
        reason = ""
        if paid is None or paid.bank_code != bank_code:
            reason = "本行没有该订单的网银支付记录"
        elif amount > left:
            reason = f"退款金额（amount_fen）超过该笔支付可退金额 {left} 分"
        elif account is None or account.status != "active":
            reason = "原付款账户已销户或未启用"
        if reason or paid is None or account is None:
            answer: dict[str, Any] = {"status": "refused", "reason": reason}
        else:
            account.post(amount, "refund", f"网银支付退款 {order_no}")
            page.refunded[order_no] = page.refunded.get(order_no, 0) + amount
            answer = {"status": "done", "bank_ref": "R" + secrets.token_hex(8).upper()}
            books.payments[f"ref:{refund_no}"] = Payment(
                ref=f"ref:{refund_no}",
                kind="credit",
                bank_code=bank_code,
                card_number=paid.card_number,
                account=paid.account,
                amount_fen=amount,
                status="done",
                reason_code=None,
                reason="网银支付退款",
                at=now(),
            )
        page.refunds[refund_no] = {**answer, "order_no": order_no, "amount_fen": amount}
        return page.refunds[refund_no]


@router.post("/paypage/refund", summary="Refund of an order paid on the pay page (网银退款)")
def refund(data: RefundIn, page_dep: PageDep) -> Any:
    books, page = page_dep
    try:
        message = verified_request(data.req, data.sig, signing.REFUND_FIELDS)
    except signing.BadMessage as exc:
        return {"status": "refused", "reason": str(exc).replace("支付请求", "退款请求")}
    if _down(books):
        return JSONResponse({"error": "unavailable", "detail": "银行核心系统维护中"}, 503)
    return _credit_back(books, page, message)


def _down(books: Books) -> bool:
    """Whether the test fault ``paypage_refund`` (``unavailable``) is set: the refund and
    its status query answer 503 without doing anything."""
    with books.lock:
        fault = books.fault_for("paypage_refund", "")
    return fault is not None and fault.mode == "unavailable"


class StatusIn(BaseModel):
    bank_code: str = Field(min_length=1, max_length=32)
    order_no: str = Field(min_length=1, max_length=32)
    refund_no: str | None = Field(default=None, min_length=1, max_length=64)


@router.post("/paypage/status", summary="Status of an order (or refund) on the pay page")
def status(data: StatusIn, page_dep: PageDep) -> Any:
    books, page = page_dep
    if data.refund_no is not None:
        if _down(books):
            return JSONResponse({"error": "unavailable", "detail": "银行核心系统维护中"}, 503)
        answer = page.refunds.get(data.refund_no)
        if answer is None or answer["order_no"] != data.order_no:
            return {"status": "unknown", "refund_no": data.refund_no}
        return answer
    found = page.payments.get(data.order_no)
    if found is None or found.bank_code != data.bank_code:
        return {"status": "unknown", "order_no": data.order_no}
    return {"status": "paid", "notice": found.notice, "signature": found.signature}


class HoldIn(BaseModel):
    hold_notices: bool


@router.put("/control/paypage", status_code=204)
def control(data: HoldIn, page_dep: PageDep) -> None:
    page_dep[1].hold_notices = data.hold_notices


@router.get("/control/paypage/{order_no}")
def payment_record(order_no: str, page_dep: PageDep) -> Response:
    found = page_dep[1].payments.get(order_no)
    if found is None:
        return JSONResponse({"error": "not_found"}, status_code=404)
    return JSONResponse(asdict(found))


@router.post("/control/paypage/{order_no}/notify")
def notify_again(order_no: str, page_dep: PageDep) -> Response:
    found = page_dep[1].payments.get(order_no)
    if found is None:
        return JSONResponse({"error": "not_found"}, status_code=404)
    return JSONResponse({"status_code": send_notice(found, tries=1)})
