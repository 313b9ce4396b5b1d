"""Credential display (亮证) against a real database: signed, short-lived, checked against
the e-card's current status."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session
from tests.integration.ecard.test_online_support import Holder, app_channel, holder, signer

from sscard.crypto import service as crypto_service
from sscard.ecard import credentials
from sscard.ecard import service as ecard_service
from sscard.ecard.errors import CardSuspended
from sscard.issuance.cards import service as issuance
from sscard.kit.context import Actor

__all__ = ["app_channel", "holder", "signer"]


def test_the_format_round_trips_and_rejects_strangers() -> None:
    ecard_id = "01JD5X3Q8Z4W2N6R7T9V0B1C2D"
    item = credentials.Credential(ecard_id, 1_800_000_000, 300, 2)
    assert credentials.ulid_text(credentials.ulid_bytes(ecard_id)) == ecard_id
    text = credentials.encode(item, bytes(range(64)))
    assert text.startswith("ECR") and len(text) == credentials.LENGTH == 144
    parsed, body, signature = credentials.parse(text)
    assert parsed == item and signature == bytes(range(64)) and len(body) == 24
    for stranger in ("", "EC" + text[3:], text[:-1], text + "A", text.lower(), "ECR" + "1" * 141):
        with pytest.raises(credentials.Malformed):
            credentials.parse(stranger)
    with pytest.raises(credentials.Malformed):
        credentials.ulid_bytes("8" + ecard_id[1:])


def test_a_shown_credential_is_valid_with_the_holder_masked(
    session: Session, holder: Callable[..., Holder]
) -> None:
    who = holder()
    shown = credentials.issue(session, person_id=who.person_id)
    assert shown.credential.startswith("ECR") and "<svg" in shown.svg
    assert (shown.expires_at - shown.issued_at).total_seconds() == 300
    assert who.id_number not in shown.credential and shown.holder_name == "测***"
    checked = credentials.verify(session, text=shown.credential)
    assert checked.valid and checked.reason is None and checked.ecard_status == "active"
    assert checked.holder == {
        "name_masked": "测***",
        "id_number_masked": who.id_number[:6] + "********" + who.id_number[-4:],
    }


def test_a_tampered_credential_is_invalid_and_shows_nobody(
    session: Session, holder: Callable[..., Holder]
) -> None:
    who, other = holder(), holder()
    shown = credentials.issue(session, person_id=who.person_id).credential
    item, _body, signature = credentials.parse(shown)
    swapped = credentials.Credential(
        other.ecard.id, item.issued_at, item.valid_seconds, item.key_version
    )
    longer = credentials.Credential(who.ecard.id, item.issued_at, 3600, item.key_version)
    for forged in (credentials.encode(swapped, signature), credentials.encode(longer, signature)):
        checked = credentials.verify(session, text=forged)
        assert (checked.valid, checked.reason, checked.holder) == (False, "signature", None)
    raw = bytearray(base64.b32decode(shown[3:] + "=" * (-len(shown[3:]) % 8)))
    raw[-1] ^= 1
    flipped = "ECR" + base64.b32encode(bytes(raw)).decode().rstrip("=")
    assert credentials.verify(session, text=flipped).reason == "signature"
    assert credentials.verify(session, text="not a credential").reason == "malformed"


def test_a_credential_expires_after_five_minutes(
    session: Session, holder: Callable[..., Holder], monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = credentials.issue(session, person_id=holder().person_id).credential
    later = time.time() + 301
    monkeypatch.setattr(credentials.time, "time", lambda: later)
    checked = credentials.verify(session, text=shown)
    assert (checked.valid, checked.reason) == (False, "expired")
    assert checked.message == "凭证已过期，请持证人刷新后重新出示"


def test_a_card_reported_lost_after_showing_makes_the_credential_invalid(
    session: Session, holder: Callable[..., Holder], signer: Actor
) -> None:
    who = holder()
    shown = credentials.issue(session, person_id=who.person_id).credential
    issuance.report_loss(session, card_ref=who.card.id, temporary=True, actor=signer)
    checked = credentials.verify(session, text=shown)
    assert (checked.valid, checked.reason, checked.ecard_status) == (
        False,
        "card_suspended",
        "suspended",
    )
    assert checked.holder is not None
    with pytest.raises(CardSuspended):
        credentials.issue(session, person_id=who.person_id)
    issuance.cancel(session, card_ref=who.card.id, reason="测试注销", actor=signer)
    assert credentials.verify(session, text=shown).reason == "card_revoked"


def test_the_signature_checks_with_the_published_public_key(
    session: Session, holder: Callable[..., Holder]
) -> None:
    shown = credentials.issue(session, person_id=holder().person_id).credential
    _item, body, signature = credentials.parse(shown)
    from sscard.crypto import primitives
    from sscard.ecard.codes import qr

    public = crypto_service.public_key(session, name=ecard_service.SIGN_KEY)
    message = credentials.signed_message(body)
    assert public.verify(message, qr.der_from_rs(signature), primitives.DEFAULT_UID)
    assert not public.verify(body, qr.der_from_rs(signature), primitives.DEFAULT_UID)
