"""The signed messages of online banking (网银支付); the logic lives in
:mod:`sscard.payments.codes.online_signing` so that refunds (payments.orders) can sign a
refund request without importing this sub-package."""

from sscard.payments.codes.online_signing import (
    NOTICE_FIELDS,
    PLATFORM_KEY,
    REFUND_FIELDS,
    REQUEST_FIELDS,
    SIGNATURE_HEADER,
    BadMessage,
    canonical,
    encode_request,
    parse,
    request_bytes,
    signature_bytes,
)

__all__ = [
    "NOTICE_FIELDS",
    "PLATFORM_KEY",
    "REFUND_FIELDS",
    "REQUEST_FIELDS",
    "SIGNATURE_HEADER",
    "BadMessage",
    "canonical",
    "encode_request",
    "parse",
    "request_bytes",
    "signature_bytes",
]
