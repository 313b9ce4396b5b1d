"""Credential display (亮证): a short-lived credential of the e-card, signed with the
platform's SM2 key, shown as a QR; anyone can check it without logging in.

Design overview
===============
The credential names the e-card, not the person, so nothing personal is in it::

    "ECR" + base32( ver | ecard | issued | valid_s | kver | signature )
             1 B   16 B    4 B      2 B       1 B   64 B (r || s)   = 88 bytes -> 144 characters

- ``ver`` 0x03; ``ecard`` the e-card's id (26-character ULID as its 16 bytes);
  ``issued`` seconds since 1970 (UTC); ``valid_s`` seconds of validity; ``kver`` the version
  of the ``ecard-sign`` key.
- ``signature`` SM2 with SM3 (user id 1234567812345678) by ``ecard-sign`` over the ASCII
  ``ECR`` followed by the 24 body bytes; the public key is at
  ``GET /api/v1/ecard/public-key.pem``.

A check (:func:`verify`) tests the signature, the time, and the e-card's status *now*: a card
reported lost after the credential was shown makes it invalid at once. The verifier sees the
holder masked (name and ID number) and only when the signature is good.
"""

from __future__ import annotations

import base64
import io
import struct
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import segno
from sqlalchemy.orm import Session

from sscard.crypto import service as crypto_service
from sscard.db import utcnow
from sscard.ecard import records as ecard_records
from sscard.ecard import service as ecard_service
from sscard.ecard.codes import qr
from sscard.ecard.errors import CardRevoked, CardSuspended
from sscard.ecard.models import ECard
from sscard.ecard.schemas import CredentialCheck, CredentialOut
from sscard.errors import SSCardError
from sscard.kit import access
from sscard.registry.persons import service as registry_service

PREFIX = "ECR"
VERSION = 0x03
VALID_SECONDS = 300
CLOCK_SKEW = 30
_BODY = struct.Struct(">B16sIHB")
LENGTH = len(PREFIX) + 141
"""88 bytes are 141 base32 characters (no padding), 144 with the prefix."""
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

REASONS = {
    "malformed": "这不是电子社保卡亮证凭证",
    "signature": "凭证签名无效（内容可能被篡改）",
    "expired": "凭证已过期，请持证人刷新后重新出示",
    "ecard_not_found": "凭证所指的电子社保卡不存在",
    "card_suspended": "该社会保障卡已挂失，电子社保卡暂停使用",
    "card_revoked": "该电子社保卡已注销",
}


class Malformed(ValueError):
    """Not a credential of ours."""


@dataclass(frozen=True, slots=True)
class Credential:
    ecard_id: str
    issued_at: int
    valid_seconds: int
    key_version: int

    @property
    def expires_at(self) -> int:
        return self.issued_at + self.valid_seconds


# ---- the format (pure) ---------------------------------------------------------------


def ulid_bytes(value: str) -> bytes:
    """A 26-character ULID (Crockford base32) as its 16 bytes."""
    if len(value) != 26 or any(c not in _CROCKFORD for c in value) or value[0] > "7":
        raise Malformed("not a ULID")
    number = 0
    for char in value:
        number = number * 32 + _CROCKFORD.index(char)
    return number.to_bytes(16, "big")


def ulid_text(raw: bytes) -> str:
    number = int.from_bytes(raw, "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[number & 31])
        number >>= 5
    return "".join(reversed(chars))


def body(credential: Credential) -> bytes:
    return _BODY.pack(
        VERSION,
        ulid_bytes(credential.ecard_id),
        credential.issued_at,
        credential.valid_seconds,
        credential.key_version,
    )


def signed_message(body_bytes: bytes) -> bytes:
    """What the platform signs: the prefix and the body (so no other signed thing passes)."""
    return PREFIX.encode("ascii") + body_bytes


def encode(credential: Credential, signature_rs: bytes) -> str:
    if len(signature_rs) != 64:
        raise ValueError("an SM2 signature is r || s, 64 bytes")
    raw = body(credential) + signature_rs
    return PREFIX + base64.b32encode(raw).decode("ascii").rstrip("=")


def parse(text: str) -> tuple[Credential, bytes, bytes]:
    """(the credential, its body, the signature r || s), or Malformed."""
    text = "".join(text.split())
    if len(text) != LENGTH or not text.startswith(PREFIX):
        raise Malformed("wrong length or prefix")
    encoded = text[len(PREFIX) :]
    try:
        raw = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    except ValueError as exc:
        raise Malformed("not base32") from exc
    if base64.b32encode(raw).decode("ascii").rstrip("=") != encoded or len(raw) != 88:
        raise Malformed("not canonical")
    body_bytes, signature = raw[: _BODY.size], raw[_BODY.size :]
    version, ecard, issued, valid, kver = _BODY.unpack(body_bytes)
    if version != VERSION:
        raise Malformed("unknown version")
    return Credential(ulid_text(ecard), issued, valid, kver), body_bytes, signature


def qr_svg(text: str, *, scalable: bool = False) -> str:
    """A QR text (a credential, a login ticket, a code) as an SVG (segno, error level M);
    ``scalable`` leaves out the size so that the page's CSS sets it."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(
        buffer, kind="svg", scale=3, border=2, xmldecl=False, omitsize=scalable
    )
    return buffer.getvalue().decode()


# ---- issuing and checking ------------------------------------------------------------


def issue(session: Session, *, person_id: str) -> CredentialOut:
    """A credential of my e-card, valid five minutes (亮证)."""
    ecard = ecard_service.get_ecard_of_person(session, person_id=person_id)
    if ecard.status == "suspended":
        raise CardSuspended()
    if ecard.status != "active":
        raise CardRevoked()
    ecard_service.ensure_keys(session)
    key = crypto_service.get_key(session, name=ecard_service.SIGN_KEY)
    version = next(v.version for v in key.versions if v.status == "active")
    credential = Credential(ecard.id, int(time.time()), VALID_SECONDS, version)
    signature = crypto_service.sign(
        session, name=ecard_service.SIGN_KEY, message=signed_message(body(credential))
    )
    text = encode(credential, qr.rs_from_der(signature.signature))
    with access.suppress_reads(session):
        _, name_masked = registry_service.person_display(session, person_id=person_id)
    ecard_records.record_about(session, "ecard.credential.issue", person_id, {"ecard": ecard.id})
    return CredentialOut(
        credential=text,
        svg=qr_svg(text),
        holder_name=name_masked,
        issued_at=datetime.fromtimestamp(credential.issued_at, UTC),
        expires_at=datetime.fromtimestamp(credential.expires_at, UTC),
    )


def _signature_good(
    session: Session, credential: Credential, body_bytes: bytes, signature: bytes
) -> bool:
    try:
        checked = crypto_service.verify(
            session,
            name=ecard_service.SIGN_KEY,
            message=signed_message(body_bytes),
            signature=qr.der_from_rs(signature),
            version=credential.key_version,
        )
    except (SSCardError, ValueError):
        return False
    return checked.valid


def _answer(
    reason: str | None,
    credential: Credential | None = None,
    ecard: ECard | None = None,
    holder: dict[str, str] | None = None,
) -> CredentialCheck:
    return CredentialCheck(
        valid=reason is None,
        reason=reason,
        message=REASONS.get(reason or "", "凭证有效"),
        holder=holder,
        ecard_status=ecard.status if ecard else None,
        issued_at=datetime.fromtimestamp(credential.issued_at, UTC) if credential else None,
        expires_at=datetime.fromtimestamp(credential.expires_at, UTC) if credential else None,
        checked_at=utcnow(),
    )


def _reason(credential: Credential, ecard: ECard | None, now: int) -> str | None:
    if credential.issued_at - CLOCK_SKEW > now:
        return "signature"
    if now > credential.expires_at:
        return "expired"
    if ecard is None:
        return "ecard_not_found"
    if ecard.status == "suspended":
        return "card_suspended"
    if ecard.status != "active":
        return "card_revoked"
    return None


def verify(session: Session, *, text: str) -> CredentialCheck:
    """Check a shown credential: signature, expiry and the e-card's current status."""
    try:
        credential, body_bytes, signature = parse(text)
    except Malformed:
        return _answer("malformed")
    if not _signature_good(session, credential, body_bytes, signature):
        return _answer("signature", credential)
    ecard = ecard_service.get_ecard(session, ecard_id=credential.ecard_id)
    reason = _reason(credential, ecard, int(time.time()))
    if ecard is None:
        return _answer(reason, credential)
    with access.suppress_reads(session):
        id_masked, name_masked = registry_service.person_display(session, person_id=ecard.person_id)
    holder = {"name_masked": name_masked, "id_number_masked": id_masked}
    ecard_records.record_about(
        session,
        "ecard.credential.verify",
        ecard.person_id,
        {"ecard": ecard.id, "result": reason or "valid"},
        fields=tuple(holder),
        outcome="success" if reason is None else "denied",
    )
    return _answer(reason, credential, ecard, holder)
