"""The e-card's codes on screens (pure: no I/O, no key store).

Design overview
===============

Online dynamic code (shown in the wallet, refreshed before it expires)::

    "EC" + base32( ver | copy | issued | nonce | flags | kver | mac )
            1 B    6 B     4 B     6 B     1 B    1 B   12 B   = 31 bytes -> 50 characters

- ``ver``    0x01
- ``copy``   the channel copy's number (48 bits): the code is bound to one copy
- ``issued`` seconds since 1970 (UTC) when the code was made; valid ``ttl`` seconds
- ``nonce``  48 random bits: with ``copy`` it names the code for the single-use check
- ``flags``  low 4 bits the business type (1 query, 2 payment, 3 other, 4 off-site
  medical); bit 4 set when a family member's code is shown by a guardian (proxy)
- ``kver``   version of the per-copy key (derived from the key store's e-card root)
- ``mac``    the first 12 bytes of HMAC-SM3(per-copy key, the 19 bytes before it)

52 characters of the QR alphanumeric set (A-Z, 2-7): a small QR (version 3, level M).
Nothing personal is in it; without the copy's key nobody can make or alter one.

Offline code (for terminals without a network; longer, verified with the platform's SM2
public key, checked against a revocation list the terminal downloads)::

    "EO" + base32( ver | copy | issued | valid_min | flags | kver | signature )
            1 B    6 B     4 B        2 B        1 B    1 B     64 B (r || s)

- ``ver`` 0x02; ``valid_min`` minutes of validity; ``kver`` the signing key's version.
"""

from __future__ import annotations

import base64
import hmac
import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from asn1crypto import algos

ONLINE_PREFIX = "EC"
OFFLINE_PREFIX = "EO"
ONLINE_VERSION = 0x01
OFFLINE_VERSION = 0x02
MAC_BYTES = 12
PROXY_FLAG = 0x10
_ONLINE = struct.Struct(">B6sI6sBB")
_OFFLINE = struct.Struct(">B6sIHBB")
ONLINE_LENGTH = 52
MAX_COPY = 2**48 - 1


class Business(IntEnum):
    """业务类型 carried in a code, as terminals send it."""

    query = 1
    payment = 2
    other = 3
    offsite_medical = 4


BUSINESS_NAMES = {
    Business.query: "查询",
    Business.payment: "支付",
    Business.other: "其他",
    Business.offsite_medical: "异地就医",
}


class CodeInvalid(ValueError):
    """Not a code of ours, or altered (the reason is for logs, never for the screen)."""


@dataclass(frozen=True, slots=True)
class OnlineCode:
    copy_id: int
    issued_at: int
    nonce: bytes
    business: Business
    proxy: bool
    key_version: int

    @property
    def use_key(self) -> str:
        """What makes this code single use: copy and nonce."""
        return f"{self.copy_id:x}.{self.nonce.hex()}"


def _b32encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def _b32decode(text: str) -> bytes:
    """Strict base32: one spelling per code (unused trailing bits must be zero)."""
    padding = "=" * (-len(text) % 8)
    try:
        raw = base64.b32decode(text + padding)
    except (ValueError, TypeError) as exc:
        raise CodeInvalid("not base32") from exc
    if _b32encode(raw) != text:
        raise CodeInvalid("not in canonical form")
    return raw


def _flags(business: Business, proxy: bool) -> int:
    return int(business) | (PROXY_FLAG if proxy else 0)


def online_body(code: OnlineCode) -> bytes:
    """The 19 bytes the MAC covers."""
    if not 0 < code.copy_id <= MAX_COPY or len(code.nonce) != 6:
        raise ValueError("copy id or nonce out of range")
    return _ONLINE.pack(
        ONLINE_VERSION,
        code.copy_id.to_bytes(6, "big"),
        code.issued_at,
        code.nonce,
        _flags(code.business, code.proxy),
        code.key_version,
    )


def encode_online(code: OnlineCode, mac: Callable[[bytes], bytes]) -> str:
    """The string to put in the QR; ``mac`` is HMAC-SM3 under the copy's key."""
    body = online_body(code)
    return ONLINE_PREFIX + _b32encode(body + mac(body)[:MAC_BYTES])


def parse_online(text: str) -> tuple[OnlineCode, bytes, bytes]:
    """(code, the MACed body, the MAC it carries); the MAC is checked by the caller."""
    text = text.strip()
    if len(text) != ONLINE_LENGTH or not text.startswith(ONLINE_PREFIX):
        raise CodeInvalid("wrong length or prefix")
    raw = _b32decode(text[2:])
    if len(raw) != _ONLINE.size + MAC_BYTES:
        raise CodeInvalid("wrong size")
    body, tag = raw[: _ONLINE.size], raw[_ONLINE.size :]
    version, copy, issued, nonce, flags, kver = _ONLINE.unpack(body)
    if version != ONLINE_VERSION:
        raise CodeInvalid("unknown version")
    try:
        business = Business(flags & 0x0F)
    except ValueError as exc:
        raise CodeInvalid("unknown business type") from exc
    if flags & ~(0x0F | PROXY_FLAG):
        raise CodeInvalid("unknown flags")
    copy_id = int.from_bytes(copy, "big")
    if copy_id == 0:
        raise CodeInvalid("no copy")
    code = OnlineCode(copy_id, issued, nonce, business, bool(flags & PROXY_FLAG), kver)
    return code, body, tag


def mac_matches(expected: bytes, carried: bytes) -> bool:
    return hmac.compare_digest(expected[:MAC_BYTES], carried)


@dataclass(frozen=True, slots=True)
class OfflineCode:
    copy_id: int
    issued_at: int
    valid_minutes: int
    business: Business
    proxy: bool
    key_version: int

    @property
    def expires_at(self) -> int:
        return self.issued_at + 60 * self.valid_minutes


def offline_body(code: OfflineCode) -> bytes:
    return _OFFLINE.pack(
        OFFLINE_VERSION,
        code.copy_id.to_bytes(6, "big"),
        code.issued_at,
        code.valid_minutes,
        _flags(code.business, code.proxy),
        code.key_version,
    )


def encode_offline(code: OfflineCode, signature_rs: bytes) -> str:
    """The offline code: body and the platform's SM2 signature (r || s, 64 bytes)."""
    if len(signature_rs) != 64:
        raise ValueError("an SM2 signature is r || s, 64 bytes")
    return OFFLINE_PREFIX + _b32encode(offline_body(code) + signature_rs)


def parse_offline(text: str) -> tuple[OfflineCode, bytes, bytes]:
    """(code, the signed body, the signature r || s)."""
    text = text.strip()
    if not text.startswith(OFFLINE_PREFIX):
        raise CodeInvalid("wrong prefix")
    raw = _b32decode(text[2:])
    if len(raw) != _OFFLINE.size + 64:
        raise CodeInvalid("wrong size")
    body, signature = raw[: _OFFLINE.size], raw[_OFFLINE.size :]
    version, copy, issued, minutes, flags, kver = _OFFLINE.unpack(body)
    if version != OFFLINE_VERSION:
        raise CodeInvalid("unknown version")
    try:
        business = Business(flags & 0x0F)
    except ValueError as exc:
        raise CodeInvalid("unknown business type") from exc
    copy_id = int.from_bytes(copy, "big")
    code = OfflineCode(copy_id, issued, minutes, business, bool(flags & PROXY_FLAG), kver)
    return code, body, signature


def rs_from_der(der: bytes) -> bytes:
    """An SM2 DER signature as r || s (32 bytes each)."""
    return bytes(algos.DSASignature.load(der).to_p1363())


def der_from_rs(rs: bytes) -> bytes:
    """r || s as an SM2 DER signature."""
    return bytes(algos.DSASignature.from_p1363(rs).dump())
