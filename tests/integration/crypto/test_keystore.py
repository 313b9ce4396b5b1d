"""The key store: create, rotate, revoke, sign, verify, derive, import and export keys."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sscard.crypto import keyring, pem
from sscard.crypto import service as crypto
from sscard.crypto.errors import (
    DecryptionFailed,
    InvalidCryptoInput,
    KeyAlreadyExists,
    KeyNotFound,
    KeyRevoked,
    KeyVersionActive,
    KeyVersionNotFound,
    WrongKeyKind,
)
from sscard.crypto.models import CryptoKey, CryptoKeyVersion, KeyKind
from sscard.crypto.primitives import SM2PrivateKey


def test_a_new_key_has_one_active_version(session: Session) -> None:
    key = crypto.create_key(session, name="test-sign", kind="sm2_sign", description="e-card")
    assert key.kind == "sm2_sign"
    assert key.active_version == 1
    assert [(v.version, v.status) for v in key.versions] == [(1, "active")]
    assert key.versions[0].public_key_pem is not None
    assert key.versions[0].activated_at is not None


def test_a_key_name_is_unique(session: Session) -> None:
    crypto.create_key(session, name="pii-data-2", kind=KeyKind.sm4_data)
    with pytest.raises(KeyAlreadyExists):
        crypto.create_key(session, name="pii-data-2", kind=KeyKind.sm4_data)


@pytest.mark.parametrize("name", ["", "Upper", "with space", "x" * 65, "中文"])
def test_a_key_name_must_be_short_lowercase_ascii(session: Session, name: str) -> None:
    with pytest.raises(InvalidCryptoInput):
        crypto.create_key(session, name=name, kind=KeyKind.secret)


def test_ensure_key_creates_once_and_then_returns_the_same_key(session: Session) -> None:
    first = crypto.ensure_key(session, name="card-root", kind=KeyKind.secret)
    second = crypto.ensure_key(session, name="card-root", kind=KeyKind.secret)
    assert first == second
    with pytest.raises(WrongKeyKind):
        crypto.ensure_key(session, name="card-root", kind=KeyKind.sm2_sign)


def test_no_listing_shows_secret_material(session: Session) -> None:
    crypto.create_key(session, name="pii-data-3", kind=KeyKind.sm4_data)
    crypto.create_key(session, name="sign-3", kind=KeyKind.sm2_sign)
    material = keyring.keyring.active(session, "pii-data-3").require_secret()
    private = keyring.keyring.active(session, "sign-3").private_key
    assert private is not None
    listing = "".join(k.model_dump_json() for k in crypto.list_keys(session))
    listing += repr(keyring.keyring.active(session, "pii-data-3")) + repr(private)
    assert material.hex() not in listing
    assert private.private_bytes().hex() not in listing
    assert "wrapped" not in listing


def test_a_signature_names_its_version_and_verifies(session: Session) -> None:
    crypto.create_key(session, name="sign-a", kind=KeyKind.sm2_sign)
    result = crypto.sign(session, name="sign-a", message=b"ecard 370800")
    assert (result.key, result.version) == ("sign-a", 1)
    assert crypto.verify(
        session, name="sign-a", message=b"ecard 370800", signature=result.signature
    )
    assert not crypto.verify(session, name="sign-a", message=b"other", signature=result.signature)
    public = crypto.public_key(session, name="sign-a")
    assert public.verify(b"ecard 370800", result.signature)


def test_after_rotation_the_new_version_signs_and_the_old_one_still_verifies(
    session: Session,
) -> None:
    crypto.create_key(session, name="sign-b", kind=KeyKind.sm2_sign)
    old = crypto.sign(session, name="sign-b", message=b"m")
    rotated = crypto.rotate_key(session, name="sign-b")
    new = crypto.sign(session, name="sign-b", message=b"m")
    assert (rotated.version, rotated.status, new.version) == (2, "active", 2)
    assert crypto.verify(session, name="sign-b", message=b"m", signature=old.signature).version == 1
    assert crypto.verify(session, name="sign-b", message=b"m", signature=new.signature).version == 2
    assert not crypto.verify(
        session, name="sign-b", message=b"m", signature=old.signature, version=2
    )
    statuses = [(v.version, v.status) for v in crypto.get_key(session, name="sign-b").versions]
    assert statuses == [(1, "retired"), (2, "active")]


def test_a_revoked_version_no_longer_verifies_or_serves(session: Session) -> None:
    crypto.create_key(session, name="sign-c", kind=KeyKind.sm2_sign)
    old = crypto.sign(session, name="sign-c", message=b"m")
    crypto.rotate_key(session, name="sign-c")
    revoked = crypto.revoke_version(session, name="sign-c", version=1)
    assert revoked.status == "revoked" and revoked.revoked_at is not None
    assert not crypto.verify(session, name="sign-c", message=b"m", signature=old.signature)
    with pytest.raises(KeyRevoked):
        crypto.verify(session, name="sign-c", message=b"m", signature=old.signature, version=1)
    with pytest.raises(KeyRevoked):
        crypto.public_key(session, name="sign-c", version=1)
    assert crypto.sign(session, name="sign-c", message=b"m").version == 2
    row = session.scalars(
        select(CryptoKeyVersion)
        .join(CryptoKey)
        .where(CryptoKey.name == "sign-c", CryptoKeyVersion.version == 1)
    ).one()
    assert row.wrapped_material is None


def test_the_active_version_cannot_be_revoked(session: Session) -> None:
    crypto.create_key(session, name="sign-d", kind=KeyKind.sm2_sign)
    with pytest.raises(KeyVersionActive):
        crypto.revoke_version(session, name="sign-d", version=1)
    with pytest.raises(KeyVersionNotFound):
        crypto.revoke_version(session, name="sign-d", version=9)


def test_the_database_refuses_a_second_active_version(session: Session) -> None:
    crypto.create_key(session, name="sign-e", kind=KeyKind.sm2_sign)
    crypto.rotate_key(session, name="sign-e")
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            session.execute(
                update(CryptoKeyVersion)
                .where(CryptoKeyVersion.version == 1)
                .where(
                    CryptoKeyVersion.key_id
                    == select(CryptoKey.id).where(CryptoKey.name == "sign-e").scalar_subquery()
                )
                .values(status="active")
            )


def test_wrapped_material_copied_to_another_key_does_not_unwrap(session: Session) -> None:
    crypto.create_key(session, name="data-a", kind=KeyKind.sm4_data)
    crypto.create_key(session, name="data-b", kind=KeyKind.sm4_data)
    rows = {
        name: session.scalars(
            select(CryptoKeyVersion).join(CryptoKey).where(CryptoKey.name == name)
        ).one()
        for name in ("data-a", "data-b")
    }
    rows["data-b"].wrapped_material = rows["data-a"].wrapped_material
    session.flush()
    keyring.reset()
    with pytest.raises(DecryptionFailed, match="does not unwrap"):
        keyring.keyring.active(session, "data-b")


def test_an_unknown_key_is_reported_by_name(session: Session) -> None:
    with pytest.raises(KeyNotFound, match="no-such-key"):
        crypto.sign(session, name="no-such-key", message=b"m")
    with pytest.raises(KeyNotFound):
        crypto.get_key(session, name="no-such-key")


def test_a_key_is_used_only_for_its_kind(session: Session) -> None:
    crypto.create_key(session, name="data-c", kind=KeyKind.sm4_data)
    with pytest.raises(WrongKeyKind, match="sm4_data"):
        crypto.sign(session, name="data-c", message=b"m")
    with pytest.raises(WrongKeyKind):
        crypto.derive_key(session, name="data-c", context=b"x")


def test_derived_keys_are_stable_per_version_and_change_on_rotation(session: Session) -> None:
    crypto.create_key(session, name="test-copy-root", kind=KeyKind.secret)
    first = crypto.derive_key(session, name="test-copy-root", context=b"copy:42")
    again = crypto.derive_key(session, name="test-copy-root", context=b"copy:42")
    other = crypto.derive_key(session, name="test-copy-root", context=b"copy:43")
    assert first == again and first.key != other.key and len(first.key) == 16
    assert first.key.hex() not in repr(first)
    crypto.rotate_key(session, name="test-copy-root")
    rotated = crypto.derive_key(session, name="test-copy-root", context=b"copy:42", length=32)
    assert rotated.version == 2 and rotated.key[:16] != first.key
    redone = crypto.derive_key(
        session, name="test-copy-root", context=b"copy:42", version=first.version
    )
    assert redone == first


def test_a_partner_public_key_is_imported_and_verifies_their_signatures(
    session: Session,
) -> None:
    partner = SM2PrivateKey.generate()
    crypto.import_public_key(
        session, name="bank-icbc", public_key=partner.public_key, description="ICBC"
    )
    signature = partner.sign(b"settlement file")
    assert crypto.verify(session, name="bank-icbc", message=b"settlement file", signature=signature)
    with pytest.raises(WrongKeyKind):
        crypto.sign(session, name="bank-icbc", message=b"x")
    again = crypto.import_public_key(session, name="bank-icbc", public_key=partner.public_key)
    assert again.active_version == 1
    renewed = SM2PrivateKey.generate()
    info = crypto.import_public_key(session, name="bank-icbc", public_key=renewed.public_key)
    assert info.active_version == 2
    assert crypto.verify(session, name="bank-icbc", message=b"settlement file", signature=signature)


def test_a_partner_key_is_rotated_only_by_importing_its_new_public_key(session: Session) -> None:
    crypto.import_public_key(session, name="bank-x", public_key=SM2PrivateKey.generate().public_key)
    with pytest.raises(InvalidCryptoInput):
        crypto.rotate_key(session, name="bank-x")
    with pytest.raises(InvalidCryptoInput):
        crypto.create_key(session, name="bank-y", kind=KeyKind.sm2_partner_public)


def test_the_exported_public_pem_is_the_key_that_verifies(session: Session) -> None:
    crypto.create_key(session, name="sign-f", kind=KeyKind.sm2_sign)
    text = crypto.export_public_pem(session, name="sign-f")
    signature = crypto.sign(session, name="sign-f", message=b"m").signature
    assert pem.load_public_key(text).verify(b"m", signature)
    crypto.create_key(session, name="idx-f", kind=KeyKind.hmac_index)
    with pytest.raises(WrongKeyKind):
        crypto.export_public_pem(session, name="idx-f")


def test_sm2_encryption_to_our_key_survives_rotation(session: Session) -> None:
    crypto.create_key(session, name="inbound", kind=KeyKind.sm2_encrypt)
    version, ciphertext = crypto.encrypt_to(session, name="inbound", plaintext=b"sm4 key 16 bytes")
    crypto.rotate_key(session, name="inbound")
    assert version == 1
    assert (
        crypto.decrypt_with(session, name="inbound", ciphertext=ciphertext) == b"sm4 key 16 bytes"
    )
    _, newer = crypto.encrypt_to(session, name="inbound", plaintext=b"again")
    assert crypto.decrypt_with(session, name="inbound", ciphertext=newer, version=2) == b"again"
    with pytest.raises(DecryptionFailed):
        crypto.decrypt_with(session, name="inbound", ciphertext=ciphertext, version=2)


def test_demo_keys_are_reported_as_unfit_for_production(session: Session) -> None:
    crypto.ensure_key(session, name="demo-sign", kind=KeyKind.sm2_sign, demo=True)
    reasons = crypto.demo_material_present(session)
    assert "存在演示密钥 'demo-sign'" in reasons


def test_a_key_created_in_a_rolled_back_transaction_leaves_nothing_cached(
    session: Session,
) -> None:
    with session.begin_nested() as savepoint:
        crypto.create_key(session, name="short-lived", kind=KeyKind.sm4_data)
        keyring.keyring.active(session, "short-lived")
        savepoint.rollback()
    assert keyring.keyring.peek_active("short-lived") is None
    with pytest.raises(KeyNotFound):
        keyring.keyring.active(session, "short-lived")


def test_a_revocation_rolled_back_to_a_savepoint_leaves_the_version_usable(
    session: Session,
) -> None:
    crypto.create_key(session, name="sign-g", kind=KeyKind.sm2_sign)
    old = crypto.sign(session, name="sign-g", message=b"m")
    crypto.rotate_key(session, name="sign-g")
    with session.begin_nested() as savepoint:
        crypto.revoke_version(session, name="sign-g", version=1)
        with pytest.raises(KeyRevoked):
            crypto.public_key(session, name="sign-g", version=1)
        savepoint.rollback()
    session.expire_all()
    verified = crypto.verify(session, name="sign-g", message=b"m", signature=old.signature)
    assert verified.version == 1
