"""Field encryption for personal data (SM4-GCM tokens) and blind indexes (HMAC-SM3).

Token format v1
---------------
::

    offset  size  what
    0       1     format: 0x01 text (UTF-8), 0x02 bytes
    1       2     data-key version, big-endian
    3       12    nonce
    15      n     ciphertext (as long as the plaintext)
    15+n    16    GCM tag

The AAD is ``"sscard-field-v1" 0x00 table 0x00 column 0x00 row-id 0x00 header`` where
``header`` is the first three bytes and ``row-id`` the text form of the row's primary key.
A token copied to another row, another column or another table does not decrypt. A token
costs 31 bytes more than its plaintext.

Blind index
-----------
``HMAC-SM3(index key, "sscard-bidx-v1" 0x00 purpose 0x00 normalised value)``, cut to 16 bytes
by default. The value is normalised before hashing: Unicode NFKC (full-width digits and
letters become ASCII), leading and trailing whitespace removed, inner runs of whitespace
collapsed to one space, ASCII letters upper-cased (a citizen ID's trailing ``x`` and ``X``
match). The purpose separates indexes of different fields, so equal values in two columns
do not produce equal indexes.

Keys
----
Data keys (``sm4_data``, default ``pii-data``) and index keys (``hmac_index``, default
``pii-index``) are created on first use, in the caller's session: every function takes the
caller's ``session`` and never opens a transaction of its own. Once cached by the keyring
no call touches the database. Work that runs outside any transaction (the bulk import's
worker processes) loads a :class:`FieldKeys` once, in a short transaction of its own, and
encrypts and indexes with it without the database. After a rotation,
:func:`sscard.crypto.reencrypt.reencrypt` walks a registered table in primary-key order and
re-encrypts every token that is not under the active data-key version.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy.orm import Session

from sscard.crypto import primitives
from sscard.crypto import service as crypto_service
from sscard.crypto.errors import (
    DecryptionFailed,
    InvalidCryptoInput,
    KeyNotFound,
    TableNotRegistered,
    WrongKeyKind,
)
from sscard.crypto.keyring import Material, keyring
from sscard.crypto.models import KeyKind, VersionStatus

DEFAULT_DATA_KEY: Final = "pii-data"
DEFAULT_INDEX_KEY: Final = "pii-index"
FORMAT_TEXT: Final = 0x01
FORMAT_BYTES: Final = 0x02
HEADER_SIZE: Final = 3
TOKEN_OVERHEAD: Final = HEADER_SIZE + primitives.GCM_NONCE_SIZE + primitives.GCM_TAG_SIZE

_AAD_LABEL: Final = b"sscard-field-v1"
_INDEX_LABEL: Final = b"sscard-bidx-v1"
_UPPER: Final = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
_DESCRIPTIONS: Final = {
    KeyKind.sm4_data: "data-encryption key for personal fields",
    KeyKind.hmac_index: "blind-index key for personal fields",
}


# --- registration ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EncryptedTable:
    """A table with encrypted columns, as registered by the component that owns it."""

    name: str
    pk_column: str
    encrypted_columns: tuple[str, ...]
    blind_index_columns: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """index column -> (source column, purpose)."""
    data_key: str = DEFAULT_DATA_KEY
    index_key: str = DEFAULT_INDEX_KEY
    index_length: int = 16


_registry: dict[str, EncryptedTable] = {}


def register_encrypted_table(
    table_name: str,
    pk_column: str,
    encrypted_columns: Iterable[str],
    blind_index_columns: Mapping[str, tuple[str, str]] | None = None,
    *,
    data_key: str = DEFAULT_DATA_KEY,
    index_key: str = DEFAULT_INDEX_KEY,
    index_length: int = 16,
) -> EncryptedTable:
    """Declare ``table_name``'s encrypted columns (and blind indexes): the data key its
    tokens use, and what :mod:`sscard.crypto.reencrypt` walks after a rotation."""
    columns = tuple(encrypted_columns)
    indexes = dict(blind_index_columns or {})
    for index_column, (source, _purpose) in indexes.items():
        if source not in columns:
            raise InvalidCryptoInput(
                f"blind index {table_name}.{index_column} is computed from {source}, "
                "which is not one of the encrypted columns"
            )
    entry = EncryptedTable(
        table_name, pk_column, columns, indexes, data_key, index_key, index_length
    )
    _registry[table_name] = entry
    return entry


def registered_tables() -> list[EncryptedTable]:
    """Every registered table, by name."""
    return sorted(_registry.values(), key=lambda t: t.name)


def unregister_encrypted_table(table_name: str) -> None:
    _registry.pop(table_name, None)


def registered(table: str) -> EncryptedTable:
    """The registration of ``table`` (TableNotRegistered when it has none)."""
    entry = _registry.get(table)
    if entry is None:
        known = ", ".join(sorted(_registry)) or "none"
        raise TableNotRegistered(
            f"table '{table}' has no registered encrypted columns (registered: {known})"
        )
    return entry


def _data_key_name(table: str, key: str | None) -> str:
    if key is not None:
        return key
    entry = _registry.get(table)
    return entry.data_key if entry is not None else DEFAULT_DATA_KEY


# --- keys --------------------------------------------------------------------------------


def _of_kind(material: Material, kind: KeyKind) -> Material:
    if material.kind != kind:
        raise WrongKeyKind(f"key '{material.name}' is a {material.kind} key; this needs {kind}")
    return material


def load_active(session: Session, name: str, kind: KeyKind) -> Material:
    """The active version of key ``name`` (created when missing), from the cache if there."""
    material = keyring.cached_active(session, name)
    if material is not None:
        return _of_kind(material, kind)
    try:
        return _of_kind(keyring.active(session, name), kind)
    except KeyNotFound:
        crypto_service.ensure_key(session, name=name, kind=kind, description=_DESCRIPTIONS[kind])
        return keyring.active(session, name)


def load_version(session: Session, name: str, version: int, kind: KeyKind) -> Material:
    """Version ``version`` of key ``name`` (to open tokens made under it)."""
    material = keyring.cached(session, name, version)
    if material is not None and material.status != VersionStatus.revoked:
        return _of_kind(material, kind)
    return _of_kind(keyring.get(session, name, version), kind)


def prepare_keys(
    session: Session,
    *,
    data_key: str = DEFAULT_DATA_KEY,
    index_key: str = DEFAULT_INDEX_KEY,
) -> None:
    """Create (if missing) and cache the data and index keys; call it at start-up."""
    load_active(session, data_key, KeyKind.sm4_data)
    load_active(session, index_key, KeyKind.hmac_index)


@dataclass(frozen=True, slots=True)
class FieldKeys:
    """The active data key of one table and the active index key, loaded once.

    Sealing and indexing with them touch no database: for work outside any transaction,
    such as the bulk import's worker processes. Made by :func:`load_keys`; tokens made with
    them open with :func:`decrypt_field` like any other.
    """

    table: str
    data: Material
    index: Material

    def encrypt_field(self, value: str, *, column: str, row_id: str | int) -> bytes:
        """Like :func:`encrypt_field` for this table."""
        return seal(FORMAT_TEXT, value.encode("utf-8"), self.data, (self.table, column, row_id))

    def blind_index(self, value: str, *, purpose: str, length: int = 16) -> bytes:
        """Like :func:`blind_index` under the active index key."""
        if not 8 <= length <= 32:
            raise InvalidCryptoInput("a blind index is 8 to 32 bytes")
        return index_of(self.index, value, purpose, length)


def load_keys(session: Session, *, table: str, index_key: str = DEFAULT_INDEX_KEY) -> FieldKeys:
    """The keys :class:`FieldKeys` holds for ``table``, loaded (or created) in ``session``."""
    data = load_active(session, _data_key_name(table, None), KeyKind.sm4_data)
    return FieldKeys(table, data, load_active(session, index_key, KeyKind.hmac_index))


# --- tokens ------------------------------------------------------------------------------


def _aad(table: str, column: str, row_id: object, header: bytes) -> bytes:
    return b"\x00".join((_AAD_LABEL, table.encode(), column.encode(), str(row_id).encode(), header))


def seal(fmt: int, plaintext: bytes, material: Material, where: tuple[str, str, object]) -> bytes:
    """A token of ``plaintext`` under ``material`` for (table, column, row id)."""
    if material.version > 0xFFFF:
        raise InvalidCryptoInput("data-key versions above 65535 do not fit a field token")
    header = bytes((fmt,)) + material.version.to_bytes(2, "big")
    aad = _aad(*where, header)
    return header + primitives.sm4_gcm_encrypt(material.require_secret(), plaintext, aad=aad)


def token_version(token: bytes) -> int:
    """The data-key version a token was made under."""
    if len(token) < TOKEN_OVERHEAD or token[0] not in (FORMAT_TEXT, FORMAT_BYTES):
        raise DecryptionFailed("this is not an sscard field token")
    return int.from_bytes(token[1:3], "big")


def open_token(
    session: Session, token: bytes, fmt: int, name: str, where: tuple[str, str, object]
) -> bytes:
    """The plaintext of a token of key ``name`` made for (table, column, row id)."""
    version = token_version(token)
    if token[0] != fmt:
        raise DecryptionFailed("the field token holds bytes where text was expected, or back")
    material = load_version(session, name, version, KeyKind.sm4_data)
    aad = _aad(*where, token[:HEADER_SIZE])
    try:
        return primitives.sm4_gcm_decrypt(material.require_secret(), token[HEADER_SIZE:], aad=aad)
    except DecryptionFailed:
        table, column, row_id = where
        raise DecryptionFailed(
            f"the token of {table}.{column} for row {row_id} does not decrypt there "
            "(altered, or copied from another row or column)"
        ) from None


def encrypt_field(
    value: str,
    *,
    table: str,
    column: str,
    row_id: str | int,
    key: str | None = None,
    session: Session,
) -> bytes:
    """Encrypt a text value for ``table.column`` of row ``row_id`` (SM4-GCM token)."""
    name = _data_key_name(table, key)
    material = load_active(session, name, KeyKind.sm4_data)
    return seal(FORMAT_TEXT, value.encode("utf-8"), material, (table, column, row_id))


def decrypt_field(
    token: bytes,
    *,
    table: str,
    column: str,
    row_id: str | int,
    key: str | None = None,
    session: Session,
) -> str:
    """Decrypt a token made by :func:`encrypt_field` for the same table, column and row."""
    name = _data_key_name(table, key)
    plaintext = open_token(session, bytes(token), FORMAT_TEXT, name, (table, column, row_id))
    return plaintext.decode("utf-8")


def encrypt_blob(
    value: bytes,
    *,
    table: str,
    column: str,
    row_id: str | int,
    key: str | None = None,
    session: Session,
) -> bytes:
    """Encrypt bytes (a photo, a document) for ``table.column`` of row ``row_id``."""
    name = _data_key_name(table, key)
    material = load_active(session, name, KeyKind.sm4_data)
    return seal(FORMAT_BYTES, value, material, (table, column, row_id))


def decrypt_blob(
    token: bytes,
    *,
    table: str,
    column: str,
    row_id: str | int,
    key: str | None = None,
    session: Session,
) -> bytes:
    """Decrypt a token made by :func:`encrypt_blob`."""
    name = _data_key_name(table, key)
    return open_token(session, bytes(token), FORMAT_BYTES, name, (table, column, row_id))


# --- blind indexes -----------------------------------------------------------------------


def normalize(value: str) -> str:
    """NFKC, whitespace stripped and collapsed, ASCII letters upper-cased."""
    return " ".join(unicodedata.normalize("NFKC", value).split()).translate(_UPPER)


def index_of(material: Material, value: str, purpose: str, length: int) -> bytes:
    """The blind index of ``value`` for ``purpose`` under ``material``."""
    message = b"\x00".join((_INDEX_LABEL, purpose.encode(), normalize(value).encode("utf-8")))
    return primitives.sm3_hmac(material.require_secret(), message)[:length]


def blind_index(
    value: str,
    *,
    purpose: str,
    key: str = DEFAULT_INDEX_KEY,
    length: int = 16,
    session: Session,
) -> bytes:
    """HMAC-SM3 blind index of ``value`` for ``purpose`` under the active index key."""
    if not 8 <= length <= 32:
        raise InvalidCryptoInput("a blind index is 8 to 32 bytes")
    material = load_active(session, key, KeyKind.hmac_index)
    return index_of(material, value, purpose, length)


def blind_index_candidates(
    value: str,
    *,
    purpose: str,
    key: str = DEFAULT_INDEX_KEY,
    length: int = 16,
    session: Session,
) -> list[bytes]:
    """Indexes of ``value`` under the active and every retired index-key version.

    Search with ``WHERE idx IN (...)`` while a re-encryption after an index-key rotation
    has not finished; the active version's index comes first.
    """
    active = load_active(session, key, KeyKind.hmac_index)
    info = crypto_service.get_key(session, name=key)
    retired = [v.version for v in reversed(info.versions) if v.status == VersionStatus.retired]
    materials = [active, *(load_version(session, key, v, KeyKind.hmac_index) for v in retired)]
    return [index_of(m, value, purpose, length) for m in materials]
