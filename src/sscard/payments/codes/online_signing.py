"""The two signed messages of online banking (网银支付), pure logic without I/O.

Design overview
---------------
1. *Pay request* (支付请求, platform -> bank, through the resident's browser): the platform
   names the order, the amount, the merchant, where to send the browser back
   (``return_url``) and where to send the notice (``notify_url``). It travels as two query
   parameters of the bank's pay page: ``req`` (the canonical JSON, base64url without
   padding) and ``sig`` (SM2 signature of those bytes, hex). The request also names the
   platform's key (``signer``), so the bank knows which trusted public key to use.
2. *Payment notice* (支付结果通知, bank -> platform, server to server): the body is the
   canonical JSON of ``notice_id``, ``bank_code``, ``order_no``, ``amount_fen``,
   ``status`` (``paid``), ``bank_ref``, ``paid_at``; the header ``X-Sscard-Signature``
   carries the bank's SM2 signature of the exact body bytes (hex).

Canonical JSON: UTF-8, keys sorted, no spaces (``json.dumps(..., sort_keys=True,
separators=(",", ":"), ensure_ascii=False)``). Both sides sign and verify bytes, never a
re-encoded object, so the signature covers exactly what travelled.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

SIGNATURE_HEADER = "X-Sscard-Signature"
PLATFORM_KEY = "online-pay-sign"


def signer_party(region_code: str) -> str:
    """How the platform names its pay-request key to the banks: ``<region>-pay``."""
    return f"{region_code}-pay"


"""The name of the platform's SM2 key that signs pay and refund requests."""
REQUEST_FIELDS = frozenset(
    {
        "order_no",
        "bank_code",
        "amount_fen",
        "merchant_name",
        "subject",
        "return_url",
        "notify_url",
        "issued_at",
        "signer",
    }
)
REFUND_FIELDS = frozenset(
    {"order_no", "refund_no", "bank_code", "amount_fen", "issued_at", "signer"}
)
"""A refund request (退款请求, platform -> bank, server to server): signed like the pay
request and sent as ``{"req", "sig"}`` to ``POST /paypage/refund``."""
NOTICE_FIELDS = frozenset(
    {"notice_id", "bank_code", "order_no", "amount_fen", "status", "bank_ref", "paid_at"}
)


class BadMessage(ValueError):
    """A pay request or notice that is not well formed (its reason is in Chinese)."""


def canonical(message: dict[str, Any]) -> bytes:
    """The bytes that are signed: canonical JSON of ``message``."""
    return json.dumps(message, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def encode_request(message: dict[str, Any]) -> str:
    """The ``req`` query parameter: base64url of the canonical JSON, without padding."""
    return base64.urlsafe_b64encode(canonical(message)).rstrip(b"=").decode("ascii")


def request_bytes(req: str) -> bytes:
    """The signed bytes of a ``req`` parameter (refused if it is not base64url)."""
    try:
        return base64.urlsafe_b64decode(req + "=" * (-len(req) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BadMessage("支付请求的编码不正确") from exc


def parse(data: bytes, fields: frozenset[str]) -> dict[str, Any]:
    """A message read back from its signed bytes, with exactly ``fields``."""
    try:
        message = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadMessage("报文不是合法的 JSON") from exc
    if not isinstance(message, dict) or set(message) != fields:
        raise BadMessage("报文的字段不完整或有多余字段")
    amount = message.get("amount_fen")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise BadMessage("报文中的金额（amount_fen）应为正整数（分）")
    return message


def signature_bytes(text: str | None) -> bytes:
    """A hex signature as bytes (refused when missing or not hex)."""
    try:
        return bytes.fromhex(text or "")
    except ValueError as exc:
        raise BadMessage("签名不是十六进制") from exc
