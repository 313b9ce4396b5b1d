"""The key hierarchy and the process-wide keyring (a software HSM).

Design overview
===============

::

    master key  (SM4, 16 bytes)  SSCARD_MASTER_KEY, or the key file <data_dir>/keys/master.key
      |                          never stored in the database; the database keeps only its
      |                          check value (table crypto_master_key)
      +-- wraps each key version (SM4-GCM, AAD = "sscard-key-wrap-v1" | name | kind | version)
            sm4_data     -> field tokens      (SM4-GCM, AAD = table | column | row id)
            hmac_index   -> blind indexes     (HMAC-SM3 over a normalised value)
            secret       -> derived keys      (HMAC-SM3 counter KDF over a caller's context)
            sm2_sign     -> SM2 signatures    (e-cards, files, API responses)
            sm2_encrypt  -> SM2 decryption    (what partners encrypt to us)
      sm2_partner_public: a partner's public key; nothing secret, nothing wrapped

Invariants
----------
- A named key has versions 1, 2, 3 ...; exactly one is ``active`` (enforced in code and by
  a partial unique index). New signatures, ciphertexts, indexes and derivations use the
  active version; ``retired`` versions still verify and decrypt; ``revoked`` versions are
  unusable. The version travels with what it produced (field token header, signature
  result, derived key) so that the right version is found later.
- The wrapping AAD binds the material to its key name, kind and version: a wrapped blob
  copied to another row does not open.
- The master key's check value (HMAC-SM3 of a fixed label, 8 bytes) is recorded in the
  database the first time a master key is used. Another master key is then refused as
  *foreign* instead of failing later on every unwrap.
- Unwrapped material is cached per process by (name, version), and the active version per
  name, for ``ttl`` seconds, so that other worker processes pick up a rotation or a
  revocation within that time. Only committed rows are cached process-wide: a key created,
  rotated or revoked in a session is served from that session until it ends, so a rolled-back
  transaction never leaves material behind in the cache.
- Nothing here logs, prints or puts key material into an error message or a ``repr``.

The master key is read by :mod:`sscard.crypto.master_key`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sscard.crypto import primitives, repository
from sscard.crypto.errors import (
    DecryptionFailed,
    KeyNotFound,
    KeyRevoked,
    KeyVersionNotFound,
    MasterKeyForeign,
)
from sscard.crypto.master_key import MasterKey, load_master_key
from sscard.crypto.models import SM2_KINDS, CryptoKeyVersion, KeyKind, VersionStatus
from sscard.crypto.primitives import SM2PrivateKey, SM2PublicKey
from sscard.kit.cache import TTLCache
from sscard.settings import get_settings

DEFAULT_TTL: Final = 10.0
MAX_CACHED_KEYS: Final = 4096
"""Key names a process keeps at once (each with the versions it uses); the least recently
used goes first."""
_WRAP_LABEL: Final = b"sscard-key-wrap-v1"

_TOUCHED: Final = "sscard.crypto.touched"
_LOCAL: Final = "sscard.crypto.local"
_VERIFIED: Final = "sscard.crypto.master_verified"


# --- wrapping ----------------------------------------------------------------------------


def wrap_aad(*, name: str, kind: str, version: int) -> bytes:
    return b"|".join((_WRAP_LABEL, name.encode(), kind.encode(), str(version).encode()))


def wrap(master: MasterKey, *, name: str, kind: str, version: int, material: bytes) -> bytes:
    aad = wrap_aad(name=name, kind=kind, version=version)
    return primitives.sm4_gcm_encrypt(master.key, material, aad=aad)


def new_material(kind: str) -> tuple[bytes, bytes | None]:
    """Fresh secret material for ``kind`` and, for SM2, the public key ``x || y``."""
    if kind in (KeyKind.sm2_sign, KeyKind.sm2_encrypt):
        private = SM2PrivateKey.generate()
        return private.private_bytes() + private.public_key.raw, private.public_key.raw
    if kind == KeyKind.sm4_data:
        return primitives.random_bytes(16), None
    if kind in (KeyKind.hmac_index, KeyKind.secret):
        return primitives.random_bytes(32), None
    raise ValueError(f"no generated material for kind {kind}")


@dataclass(frozen=True, slots=True, eq=False)
class Material:
    """One usable key version, unwrapped. ``repr`` shows name, kind and version only."""

    name: str
    kind: str
    version: int
    status: str
    secret: bytes | None = field(default=None, repr=False)
    private_key: SM2PrivateKey | None = field(default=None, repr=False)
    public_key: SM2PublicKey | None = field(default=None, repr=False)
    expires: float = field(default=0.0, repr=False)

    def require_secret(self) -> bytes:
        if self.secret is None:
            raise KeyRevoked(f"key '{self.name}' version {self.version} has no secret material")
        return self.secret


def _unwrap(master: MasterKey, kind: str, name: str, row: CryptoKeyVersion, ttl: float) -> Material:
    expires = time.monotonic() + ttl
    public = SM2PublicKey(row.public_key) if row.public_key is not None else None
    if row.status == VersionStatus.revoked or row.wrapped_material is None:
        return Material(name, kind, row.version, row.status, None, None, public, expires)
    aad = wrap_aad(name=name, kind=kind, version=row.version)
    try:
        plain = primitives.sm4_gcm_decrypt(master.key, row.wrapped_material, aad=aad)
    except DecryptionFailed:
        raise DecryptionFailed(
            f"key '{name}' version {row.version} does not unwrap under the master key "
            f"(check value {master.check_value}): the row was altered or wrapped elsewhere"
        ) from None
    if kind in SM2_KINDS:
        private = SM2PrivateKey(plain[:32], SM2PublicKey(plain[32:]))
        return Material(
            name, kind, row.version, row.status, None, private, private.public_key, expires
        )
    return Material(name, kind, row.version, row.status, plain, None, None, expires)


# --- the keyring -------------------------------------------------------------------------


def _touched(session: Session) -> set[str]:
    """Names of the keys ``session`` has changed (served from the session until it ends)."""
    touched: set[str] = session.info.get(_TOUCHED, set())
    return touched


class Keyring:
    """Process-wide cache of unwrapped key versions and active-version pointers; thread-safe.

    Lookups come in three strengths: :meth:`peek` / :meth:`peek_active` read the process
    cache only; :meth:`cached` / :meth:`cached_active` do the same as a session sees it
    (nothing for a key the session changed); :meth:`get` / :meth:`active` fall back to the
    database in that session. The cache holds at most :data:`MAX_CACHED_KEYS` key names
    (:class:`sscard.kit.cache.TTLCache`, least recently used out first); each version read
    expires after ``ttl`` seconds.
    """

    def __init__(self, *, ttl: float = DEFAULT_TTL) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._master: MasterKey | None = None
        self._verified_check: str | None = None
        self._versions: TTLCache[str, dict[int, Material]] = TTLCache(
            max_entries=MAX_CACHED_KEYS, ttl=None
        )
        """Versions read, by key name (a new dict replaces the old on every write)."""
        self._active: TTLCache[str, tuple[float, int]] = TTLCache(
            max_entries=MAX_CACHED_KEYS, ttl=None
        )
        """Key name -> (until when, active version)."""

    def reset(self) -> None:
        """Forget every cached key and the master key (tests; settings changed)."""
        with self._lock:
            self._master = None
            self._verified_check = None
            self._versions.clear()
            self._active.clear()

    def invalidate(self, name: str) -> None:
        with self._lock:
            self._active.pop(name)
            self._versions.pop(name)

    # master key

    def master(self) -> MasterKey:
        """The configured master key, read once per process (not yet checked against the DB)."""
        master = self._master
        if master is None:
            master = load_master_key(get_settings())
            with self._lock:
                self._master = master
        return master

    def verified_master(self, session: Session) -> MasterKey:
        """The master key, after checking it is the one recorded in this database."""
        master = self.master()
        if master.check_value in (self._verified_check, session.info.get(_VERIFIED)):
            return master
        record = repository.get_master_record(session)
        if record is None:
            try:
                with session.begin_nested():
                    repository.add_master_record(
                        session, check_value=master.check_value, origin=master.origin
                    )
            except IntegrityError:
                record = repository.get_master_record(session)
            if record is None:
                session.info[_VERIFIED] = master.check_value
                return master
        if record.check_value != master.check_value:
            raise self._foreign(master, record.check_value, f"{record.recorded_at:%Y-%m-%d}")
        self._verified_check = master.check_value
        return master

    def _foreign(self, master: MasterKey, recorded: str, since: str) -> MasterKeyForeign:
        wanted = f"this database's keys are wrapped with the master key of check value {recorded}"
        if master.generated:
            # Nothing was wrapped under the file just written: remove it, so that restoring
            # the right file is all it takes.
            Path(master.source).unlink(missing_ok=True)
            with self._lock:
                self._master = None
            return MasterKeyForeign(
                f"there was no master key file at {master.source}, but {wanted} (recorded "
                f"{since}); restore that key file or set SSCARD_MASTER_KEY to that key"
            )
        return MasterKeyForeign(
            f"the master key from {master.source} (check value {master.check_value}) is not "
            f"the one expected: {wanted} (recorded {since}); restore that key file or set "
            "SSCARD_MASTER_KEY to that key"
        )

    def recorded_origin(self, session: Session) -> str | None:
        record = repository.get_master_record(session)
        return None if record is None else record.origin

    # sessions that change keys

    def touch(self, session: Session, name: str) -> None:
        """Mark ``name`` as changed in ``session``: served from the session until it ends."""
        if _TOUCHED not in session.info:
            session.info[_TOUCHED] = set()
            session.info[_LOCAL] = {}
            event.listen(session, "after_commit", self._after_commit)
            event.listen(session, "after_rollback", self._after_rollback)
        session.info[_TOUCHED].add(name)
        local: dict[tuple[str, int], Material] = session.info[_LOCAL]
        for cached in [k for k in local if k[0] == name]:
            del local[cached]
        self.invalidate(name)

    def remember(self, material: Material, *, active: bool = False) -> None:
        """Cache ``material`` read in a transaction that has since committed."""
        with self._lock:
            self._keep(material)
            if active:
                self._active.put(material.name, (material.expires, material.version))

    def _keep(self, material: Material) -> None:
        """Add ``material`` to its key's versions; the caller holds the lock."""
        versions = dict(self._versions.get(material.name) or {})
        versions[material.version] = material
        self._versions.put(material.name, versions)

    def _after_commit(self, session: Session) -> None:
        for name in session.info.get(_TOUCHED, ()):
            self.invalidate(name)

    def _after_rollback(self, session: Session) -> None:
        session.info.get(_LOCAL, {}).clear()

    # lookups

    def peek_active(self, name: str) -> Material | None:
        """The active version of ``name`` in the process cache, or None; never the database."""
        pointer = self._active.get(name)
        now = time.monotonic()
        if pointer is None or pointer[0] < now:
            return None
        material = (self._versions.get(name) or {}).get(pointer[1])
        if material is None or material.expires < now:
            return None
        return material

    def peek(self, name: str, version: int) -> Material | None:
        """Version ``version`` of ``name`` in the process cache, or None; never the database."""
        material = (self._versions.get(name) or {}).get(version)
        if material is None or material.expires < time.monotonic():
            return None
        return material

    def cached_active(self, session: Session, name: str) -> Material | None:
        """:meth:`peek_active` as ``session`` sees it: None once ``session`` changed ``name``.

        No database access; a None sends the caller to :meth:`active`.
        """
        return None if name in _touched(session) else self.peek_active(name)

    def cached(self, session: Session, name: str, version: int) -> Material | None:
        """:meth:`peek` as ``session`` sees it: None once ``session`` changed ``name``."""
        return None if name in _touched(session) else self.peek(name, version)

    def get(self, session: Session, name: str, version: int) -> Material:
        """Version ``version`` of ``name``; raises :class:`KeyRevoked` for a revoked one."""
        material = self.cached(session, name, version) or self._load(session, name, version)
        if material.status == VersionStatus.revoked:
            raise KeyRevoked(f"key '{name}' version {version} is revoked")
        return material

    def active(self, session: Session, name: str) -> Material:
        """The active version of ``name``."""
        material = self.cached_active(session, name)
        if material is not None:
            return material
        found = repository.get_active_version(session, name)
        if found is None:
            raise KeyNotFound(f"there is no key '{name}' with an active version")
        material = self._store(session, name, found[0], found[1])
        if name not in _touched(session):
            with self._lock:
                self._active.put(name, (time.monotonic() + self.ttl, material.version))
        return material

    def _load(self, session: Session, name: str, version: int) -> Material:
        found = repository.get_version(session, name, version)
        if found is None:
            if repository.get_key(session, name) is None:
                raise KeyNotFound(f"there is no key '{name}'")
            raise KeyVersionNotFound(f"key '{name}' has no version {version}")
        return self._store(session, name, found[0], found[1])

    def _store(self, session: Session, name: str, kind: str, row: CryptoKeyVersion) -> Material:
        touched = name in _touched(session)
        local: dict[tuple[str, int], Material] = session.info.get(_LOCAL, {})
        cached = local.get((name, row.version)) if touched else self.peek(name, row.version)
        if cached is not None and cached.status == row.status:
            return cached
        material = _unwrap(self.verified_master(session), kind, name, row, self.ttl)
        if touched:
            local[(name, row.version)] = material
        else:
            with self._lock:
                self._keep(material)
        return material


keyring = Keyring()
"""The keyring of this process."""


def reset() -> None:
    """Forget every cached key and the master key (tests; settings changed)."""
    keyring.reset()
