"""Use cases of the key store: create, rotate, revoke, sign, verify, derive, import, export.

Other components call these as ``from sscard.crypto import service as crypto_service``;
field encryption and blind indexes live in :mod:`sscard.crypto.fields`. Every function
flushes and never commits: the caller owns the transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sscard.crypto import pem, repository
from sscard.crypto.errors import (
    DecryptionFailed,
    InvalidCryptoInput,
    KeyAlreadyExists,
    KeyNotFound,
    KeyRevoked,
    KeyVersionActive,
    KeyVersionNotFound,
    MasterKeyExists,
    WrongKeyKind,
)
from sscard.crypto.keyring import Material, keyring, new_material, wrap
from sscard.crypto.master_key import MasterKey, write_master_key_file
from sscard.crypto.models import (
    SM2_KINDS,
    CryptoKey,
    CryptoKeyVersion,
    KeyKind,
    VersionStatus,
)
from sscard.crypto.primitives import DEFAULT_UID, SM2PrivateKey, SM2PublicKey, hmac_kdf
from sscard.crypto.schemas import (
    DerivedKey,
    KeyInfo,
    KeyVersionInfo,
    Signature,
    Verification,
)
from sscard.db import utcnow

__all__ = ["KeyKind", "VersionStatus"]

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_DERIVE_LABEL = b"sscard-derive-v1"


# --- shaping -----------------------------------------------------------------------------


def _version_info(row: CryptoKeyVersion) -> KeyVersionInfo:
    public = SM2PublicKey(row.public_key) if row.public_key is not None else None
    return KeyVersionInfo(
        version=row.version,
        status=row.status,
        created_at=row.created_at,
        activated_at=row.activated_at,
        retired_at=row.retired_at,
        revoked_at=row.revoked_at,
        public_key_pem=pem.public_key_to_pem(public) if public else None,
        fingerprint=public.fingerprint if public else None,
    )


def _key_info(key: CryptoKey) -> KeyInfo:
    active = [v.version for v in key.versions if v.status == VersionStatus.active]
    return KeyInfo(
        name=key.name,
        kind=key.kind,
        description=key.description,
        demo=key.demo,
        created_at=key.created_at,
        active_version=active[0] if active else None,
        versions=[_version_info(v) for v in key.versions],
    )


def _public(material: Material) -> SM2PublicKey:
    if material.public_key is None:
        raise WrongKeyKind(f"key '{material.name}' has no public key")
    return material.public_key


def _private(material: Material) -> SM2PrivateKey:
    if material.private_key is None:
        raise KeyRevoked(f"key '{material.name}' version {material.version} has no private key")
    return material.private_key


def _require_key(session: Session, name: str) -> CryptoKey:
    key = repository.get_key(session, name)
    if key is None:
        raise KeyNotFound(f"there is no key '{name}'")
    return key


def _require_kind(key: CryptoKey | str, kinds: set[KeyKind], name: str) -> None:
    kind = key.kind if isinstance(key, CryptoKey) else key
    if kind not in kinds:
        wanted = " or ".join(sorted(kinds))
        raise WrongKeyKind(f"key '{name}' is a {kind} key; this needs {wanted}")


def _add_version(
    session: Session, key: CryptoKey, *, public_key: SM2PublicKey | None = None
) -> CryptoKeyVersion:
    """Make a new active version of ``key`` (the caller retires the previous one first)."""
    version = repository.max_version(session, key.id) + 1
    wrapped: bytes | None = None
    public_raw: bytes | None = None
    if public_key is not None:
        public_raw = public_key.raw
    else:
        material, public_raw = new_material(key.kind)
        master = keyring.verified_master(session)
        wrapped = wrap(master, name=key.name, kind=key.kind, version=version, material=material)
    now = utcnow()
    row = CryptoKeyVersion(
        key_id=key.id,
        version=version,
        status=VersionStatus.active,
        wrapped_material=wrapped,
        public_key=public_raw,
        created_at=now,
        activated_at=now,
    )
    key.versions.append(row)
    session.flush()
    keyring.touch(session, key.name)
    return row


# --- key lifecycle -----------------------------------------------------------------------


def create_key(
    session: Session,
    *,
    name: str,
    kind: KeyKind | str,
    description: str = "",
    demo: bool = False,
    public_key: SM2PublicKey | None = None,
) -> KeyInfo:
    """Create key ``name`` of ``kind`` with an active version 1."""
    kind = KeyKind(kind)
    if not _NAME.fullmatch(name):
        raise InvalidCryptoInput(
            f"key name '{name[:70]}' must be 1-64 characters of a-z, 0-9, '.', '_' or '-'"
        )
    if (kind == KeyKind.sm2_partner_public) != (public_key is not None):
        raise InvalidCryptoInput("a public key is given for, and only for, sm2_partner_public keys")
    if repository.get_key(session, name) is not None:
        raise KeyAlreadyExists(f"key '{name}' already exists")
    key = CryptoKey(name=name, kind=kind.value, description=description, demo=demo)
    repository.add(session, key)
    _add_version(session, key, public_key=public_key)
    return _key_info(key)


def ensure_key(
    session: Session,
    *,
    name: str,
    kind: KeyKind | str,
    description: str = "",
    demo: bool = False,
) -> KeyInfo:
    """Return key ``name``, creating it if missing (safe when two processes race)."""
    key = repository.get_key(session, name)
    if key is None:
        try:
            with session.begin_nested():
                return create_key(session, name=name, kind=kind, description=description, demo=demo)
        except (IntegrityError, KeyAlreadyExists):
            key = _require_key(session, name)
    _require_kind(key, {KeyKind(kind)}, name)
    return _key_info(key)


def rotate_key(
    session: Session, *, name: str, public_key: SM2PublicKey | None = None
) -> KeyVersionInfo:
    """Make a new active version of ``name``; the previous one is retired (still usable)."""
    key = _require_key(session, name)
    if (key.kind == KeyKind.sm2_partner_public) != (public_key is not None):
        raise InvalidCryptoInput(
            "a partner's public key is rotated by importing its new public key; "
            "other keys are rotated without one"
        )
    now = utcnow()
    for row in key.versions:
        if row.status == VersionStatus.active:
            row.status = VersionStatus.retired
            row.retired_at = now
    session.flush()
    return _version_info(_add_version(session, key, public_key=public_key))


def revoke_version(session: Session, *, name: str, version: int) -> KeyVersionInfo:
    """Make ``version`` of ``name`` unusable; the active version must be rotated away first."""
    key = _require_key(session, name)
    row = next((v for v in key.versions if v.version == version), None)
    if row is None:
        raise KeyVersionNotFound(f"key '{name}' has no version {version}")
    if row.status == VersionStatus.active:
        raise KeyVersionActive(
            f"version {version} of key '{name}' is active; rotate the key, then revoke it"
        )
    if row.status != VersionStatus.revoked:
        row.status = VersionStatus.revoked
        row.revoked_at = utcnow()
        row.wrapped_material = None
        session.flush()
    keyring.touch(session, name)
    return _version_info(row)


def list_keys(session: Session) -> list[KeyInfo]:
    """Every key with its versions (no secret material)."""
    return [_key_info(key) for key in repository.list_keys(session)]


def get_key(session: Session, *, name: str) -> KeyInfo:
    """Key ``name`` with its versions."""
    return _key_info(_require_key(session, name))


def import_public_key(
    session: Session, *, name: str, public_key: SM2PublicKey, description: str = ""
) -> KeyInfo:
    """Store a partner's public key; a new one for an existing name becomes its next version."""
    key = repository.get_key(session, name)
    if key is None:
        return create_key(
            session,
            name=name,
            kind=KeyKind.sm2_partner_public,
            description=description,
            public_key=public_key,
        )
    _require_kind(key, {KeyKind.sm2_partner_public}, name)
    active = [v for v in key.versions if v.status == VersionStatus.active]
    if not (active and active[0].public_key == public_key.raw):
        rotate_key(session, name=name, public_key=public_key)
    return _key_info(key)


# --- using keys --------------------------------------------------------------------------


def public_key(session: Session, *, name: str, version: int | None = None) -> SM2PublicKey:
    """The SM2 public key of ``name`` (active version unless ``version`` is given)."""
    material = (
        keyring.active(session, name) if version is None else keyring.get(session, name, version)
    )
    _require_kind(material.kind, set(SM2_KINDS), name)
    return _public(material)


def export_public_pem(session: Session, *, name: str, version: int | None = None) -> str:
    """The public key of ``name`` as a PEM ``PUBLIC KEY`` that OpenSSL reads."""
    return pem.public_key_to_pem(public_key(session, name=name, version=version))


def sign(session: Session, *, name: str, message: bytes, uid: bytes = DEFAULT_UID) -> Signature:
    """SM2-sign ``message`` with the active version of ``name`` (DER signature)."""
    material = keyring.active(session, name)
    _require_kind(material.kind, {KeyKind.sm2_sign}, name)
    return Signature(name, material.version, _private(material).sign(message, uid))


def verify(
    session: Session,
    *,
    name: str,
    message: bytes,
    signature: bytes,
    uid: bytes = DEFAULT_UID,
    version: int | None = None,
) -> Verification:
    """Check an SM2 signature against ``version``, or else every non-revoked version."""
    for material in _usable_versions(session, name, version):
        _require_kind(material.kind, {KeyKind.sm2_sign, KeyKind.sm2_partner_public}, name)
        if _public(material).verify(message, signature, uid):
            return Verification(True, material.version)
    return Verification(False, None)


def encrypt_to(session: Session, *, name: str, plaintext: bytes) -> tuple[int, bytes]:
    """SM2-encrypt up to 255 bytes to key ``name`` (ours or a partner's): (version, C1C3C2)."""
    material = keyring.active(session, name)
    _require_kind(material.kind, {KeyKind.sm2_encrypt, KeyKind.sm2_partner_public}, name)
    return material.version, _public(material).encrypt(plaintext)


def decrypt_with(
    session: Session, *, name: str, ciphertext: bytes, version: int | None = None
) -> bytes:
    """Open an SM2 ciphertext made to our ``sm2_encrypt`` key ``name`` (any usable version)."""
    for material in _usable_versions(session, name, version):
        _require_kind(material.kind, {KeyKind.sm2_encrypt}, name)
        try:
            return _private(material).decrypt(ciphertext)
        except DecryptionFailed:
            continue
    raise DecryptionFailed(f"the SM2 ciphertext does not decrypt under any version of '{name}'")


def _usable_versions(session: Session, name: str, version: int | None) -> Iterator[Material]:
    """The given version; else the active one, then the retired ones (newest first)."""
    if version is not None:
        yield keyring.get(session, name, version)
        return
    active = keyring.active(session, name)
    yield active
    for row in reversed(_require_key(session, name).versions):
        if row.status == VersionStatus.retired:
            yield keyring.get(session, name, row.version)


def derive_key(
    session: Session,
    *,
    name: str,
    context: bytes,
    length: int = 16,
    version: int | None = None,
) -> DerivedKey:
    """Derive a per-object key from ``secret`` key ``name`` (active version unless given)."""
    material = (
        keyring.active(session, name) if version is None else keyring.get(session, name, version)
    )
    _require_kind(material.kind, {KeyKind.secret}, name)
    label = _DERIVE_LABEL + b"|" + name.encode()
    derived = hmac_kdf(material.require_secret(), label=label, context=context, length=length)
    return DerivedKey(name, material.version, derived)


def demo_material_present(session: Session) -> list[str]:
    """Reasons this database and master key are not fit for production (empty when fit)."""
    reasons: list[str] = []
    master = keyring.master()
    if master.origin == "development":
        reasons.append(f"主密钥文件 {master.source} 是为开发环境生成的")
    elif keyring.recorded_origin(session) == "development":
        reasons.append("主密钥最初是为开发环境生成的")
    reasons.extend(f"存在演示密钥 '{name}'" for name in repository.demo_key_names(session))
    return reasons


def init_master_key(session: Session, *, path: Path, production: bool) -> MasterKey:
    """Write a new master key file at ``path``, for a database that has no keys yet."""
    if path.exists():
        raise MasterKeyExists(
            f"{path} already exists; move it away first (keys wrapped under it need it)"
        )
    record = repository.get_master_record(session)
    if record is not None:
        raise MasterKeyExists(
            f"this database already records a master key (check value {record.check_value}); "
            "a new master key could not unwrap its keys"
        )
    master = write_master_key_file(path, origin="production" if production else "development")
    keyring.reset()
    return master


def forget_cached_keys() -> None:
    """Drop the process's cached key material (tests, or after restoring a database)."""
    keyring.reset()
