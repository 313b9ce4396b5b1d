"""The consumer-presented payment code (被扫, UnionPay style): 19 digits a cashier scans.

Layout (positions from 1)::

    62 PP TT RRRRRR MMMMMMM
    |  |  |  |      +-- 14-19+: check, 7 digits: HMAC-SM3 over the rest, truncated
    |  |  |  +--------- 7-12: reference, 6 digits: the slot of a server-side record
    |  |  +------------ 5-6: time tick, 2 digits: (issued at // 10 s) mod 100
    |  +--------------- 3-4: product id, 2 digits (01 social security card account ...)
    +------------------ 1-2: "62", the UnionPay prefix

The check is ``int(HMAC-SM3(key, "PAYCODE1|PP|tick|RRRRRR")[:8]) mod 10**7`` where ``tick``
is the full tick (issued at // 10), not only its two digits. A random guess therefore
passes with a chance of one in ten million, before the server asks whether the reference
names a live record at all. The parser recovers the full tick as the latest tick not after
now (plus the allowed clock skew) that ends in the two digits; a code older than the
lifetime (plus the tick it was issued in) is refused as
expired, and one older than the 1,000 seconds the two digits span
lands on the wrong tick and fails its check. Single use is enforced by the server: the
record behind the reference is claimed once. The key and the clock are passed in, so the
codec is pure (as :mod:`sscard.ecard.codes.verifier`).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from sscard.crypto import primitives
from sscard.payments.codes.errors import CodeRefused

PREFIX: Final = "62"
LENGTH: Final = 19
TICK_SECONDS: Final = 10
TICK_SPAN: Final = 100
REFERENCE_SPAN: Final = 10**6
CHECK_SPAN: Final = 10**7
CLOCK_SKEW: Final = 5
"""Seconds a payer's phone may be ahead of the server."""
PRODUCTS: Final = {"01": "社保卡账户支付", "02": "电子社保卡银行账户支付"}
"""Product ids the platform issues codes for."""


@dataclass(frozen=True, slots=True)
class Paycode:
    """What a payment code carries."""

    product: str
    reference: int
    """0..999999: the slot of the server-side record (its id modulo 10**6)."""
    issued_at: int
    """Seconds since the epoch, rounded down to the tick."""


def _check(key: bytes, product: str, tick: int, reference: int) -> str:
    body = f"PAYCODE1|{product}|{tick}|{reference:06d}".encode()
    digest = primitives.sm3_hmac(key, body)
    return f"{int.from_bytes(digest[:8], 'big') % CHECK_SPAN:07d}"


@dataclass
class PaycodeCodec:
    """Issues and reads payment codes under one key and one clock."""

    key: bytes
    ttl: int = 60
    clock: Callable[[], float] = field(default=time.time)

    def issue(self, *, product: str, reference: int) -> str:
        """A fresh code for the record in slot ``reference``, issued now."""
        if product not in PRODUCTS:
            raise CodeRefused("unknown_product", f"支付产品 {product[:4]} 不存在")
        if not 0 <= reference < REFERENCE_SPAN:
            raise CodeRefused("bad_reference", "支付记录编号应在 0 至 999999 之间")
        tick = int(self.clock()) // TICK_SECONDS
        check = _check(self.key, product, tick, reference)
        return f"{PREFIX}{product}{tick % TICK_SPAN:02d}{reference:06d}{check}"

    def read(self, text: str) -> Paycode:
        """The code's content if it is genuine and alive, else CodeRefused with the reason."""
        if len(text) != LENGTH:
            raise CodeRefused("bad_length", f"付款码应为 {LENGTH} 位数字（收到 {len(text)} 位）")
        if not (text.isascii() and text.isdigit()):
            raise CodeRefused("not_digits", "付款码只能由数字组成")
        if not text.startswith(PREFIX):
            raise CodeRefused("bad_prefix", "付款码应以 62 开头")
        product, low, reference = text[2:4], int(text[4:6]), int(text[6:12])
        if product not in PRODUCTS:
            raise CodeRefused("unknown_product", f"支付产品 {product} 不存在")
        now = self.clock()
        latest = int(now + CLOCK_SKEW) // TICK_SECONDS
        tick = latest - (latest - low) % TICK_SPAN
        if not hmac.compare_digest(_check(self.key, product, tick, reference), text[12:]):
            raise CodeRefused("code_invalid", "付款码无效，请让付款人刷新后重新出示")
        if now - tick * TICK_SECONDS > self.ttl + TICK_SECONDS:
            raise CodeRefused("code_expired", "付款码已过期，请让付款人刷新后重新出示")
        return Paycode(product=product, reference=reference, issued_at=tick * TICK_SECONDS)
