"""The banks' online-banking pay page (网银支付页): where the resident's browser is sent,
and the status query of an order paid there. The notices come the other way (the bank
POSTs them to the platform) and are read by ``sscard.payments.online``."""

from __future__ import annotations

from dataclasses import dataclass

from sscard.exchange.errors import PeerUnavailable
from sscard.exchange.peers import bank, client
from sscard.exchange.peers.config import peer


@dataclass(frozen=True, slots=True)
class PaypageStatus:
    """``paid`` with the bank's signed notice (body and hex signature), or ``unknown``."""

    status: str
    notice: bytes
    signature: str


def page_url(bank_code: str) -> str:
    """The pay page of ``bank_code`` (``PeerUnavailable`` naming the setting without one)."""
    target = peer("bank", f"合作银行 {bank_code}", bank.base_url(bank_code), instance=bank_code)
    return f"{target.base_url}/paypage"


def status(*, bank_code: str, order_no: str) -> PaypageStatus:
    """Ask the bank whether the order was paid on its pay page."""
    target = peer("bank", f"合作银行 {bank_code}", bank.base_url(bank_code), instance=bank_code)
    body = {"bank_code": bank_code, "order_no": order_no}
    found = client.call(target, "POST", "/paypage/status", json=body, retry=True)
    state = found.get("status")
    if state == "unknown":
        return PaypageStatus("unknown", b"", "")
    notice, signature = found.get("notice"), found.get("signature")
    if state != "paid" or not isinstance(notice, str) or not isinstance(signature, str):
        raise PeerUnavailable("bank", f"合作银行 {bank_code} 的支付状态应答格式不正确")
    return PaypageStatus("paid", notice.encode("utf-8"), signature)


def _refund_outcome(bank_code: str, found: dict[str, object]) -> bank.PaymentOutcome:
    state, reason = found.get("status"), found.get("reason")
    if state == "done":
        return bank.PaymentOutcome("done")
    if state == "refused":
        return bank.PaymentOutcome("refused", None, str(reason or "银行拒绝退款")[:200])
    if state == "unknown":
        return bank.PaymentOutcome("unknown")
    raise PeerUnavailable("bank", f"合作银行 {bank_code} 的退款应答格式不正确")


def refund(*, bank_code: str, refund_no: str, req: str, sig: str) -> bank.PaymentOutcome:
    """Send the platform's signed refund request (退款请求; sent once, key ``ref:<no>``):
    ``done`` or ``refused`` with the bank's words."""
    target = peer("bank", f"合作银行 {bank_code}", bank.base_url(bank_code), instance=bank_code)
    body = {"req": req, "sig": sig}
    found = client.call(target, "POST", "/paypage/refund", json=body, key=f"ref:{refund_no}")
    return _refund_outcome(bank_code, found)


def refund_status(*, bank_code: str, order_no: str, refund_no: str) -> bank.PaymentOutcome:
    """What became of a refund request: done, refused, or unknown (the bank never got it)."""
    target = peer("bank", f"合作银行 {bank_code}", bank.base_url(bank_code), instance=bank_code)
    body = {"bank_code": bank_code, "order_no": order_no, "refund_no": refund_no}
    found = client.call(target, "POST", "/paypage/status", json=body, retry=True)
    return _refund_outcome(bank_code, found)
