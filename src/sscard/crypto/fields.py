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
``pii-index``) are created on first use. Once cached by the keyring no call touches the
database. Without a ``session`` argument keys are loaded (or created) in a short
transaction of their own; pass the caller's session when the key may have been created in
it. After a rotation, :func:`reencrypt` walks a registered table in primary-key order and
re-encrypts every token that is not under the active data-key version.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import MetaData, Table, func, select, table, update
from sqlalchemy.orm import Session

from sscard import db
from sscard.crypto import primitives, repository
from sscard.crypto import service as crypto_service
from sscard.crypto.errors import (
    DecryptionFailed,
    InvalidCryptoInput,
    KeyNotFound,
    TableNotRegistered,
    WrongKeyKind,
)
from sscard.crypto.keyring import Material, keyring
from sscard.crypto.models import KeyKind, ReencryptCheckpoint, VersionStatus
from sscard.crypto.schemas import ReencryptReport

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
    """Declare ``table_name``'s encrypted columns (and blind indexes) for :func:`reencrypt`."""
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
    return sorted(_registry.values(), key=lambda t: t.name)


def unregister_encrypted_table(table_name: str) -> None:
    _registry.pop(table_name, None)


def _registered(table: str) -> EncryptedTable:
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


def _load_active(session: Session, name: str, kind: KeyKind) -> Material:
    try:
        return _of_kind(keyring.active(session, name), kind)
    except KeyNotFound:
        crypto_service.ensure_key(session, name=name, kind=kind, description=_DESCRIPTIONS[kind])
        return keyring.active(session, name)


def _active(name: str, kind: KeyKind, session: Session | None) -> Material:
    material = (
        keyring.peek_active(name) if session is None else keyring.cached_active(session, name)
    )
    if material is not None:
        return material
    if session is not None:
        return _load_active(session, name, kind)
    with db.transaction() as own:
        material = _load_active(own, name, kind)
    keyring.remember(material, active=True)
    return material


def _version(name: str, version: int, kind: KeyKind, session: Session | None) -> Material:
    material = (
        keyring.peek(name, version) if session is None else keyring.cached(session, name, version)
    )
    if material is not None and material.status != VersionStatus.revoked:
        return material
    if session is not None:
        return _of_kind(keyring.get(session, name, version), kind)
    with db.transaction() as own:
        material = _of_kind(keyring.get(own, name, version), kind)
    keyring.remember(material)
    return material


def prepare_keys(
    session: Session | None = None,
    *,
    data_key: str = DEFAULT_DATA_KEY,
    index_key: str = DEFAULT_INDEX_KEY,
) -> None:
    """Create (if missing) and cache the data and index keys; call it at start-up."""
    _active(data_key, KeyKind.sm4_data, session)
    _active(index_key, KeyKind.hmac_index, session)


# --- tokens ------------------------------------------------------------------------------


def _aad(table: str, column: str, row_id: object, header: bytes) -> bytes:
    return b"\x00".join((_AAD_LABEL, table.encode(), column.encode(), str(row_id).encode(), header))


def _seal(fmt: int, plaintext: bytes, material: Material, where: tuple[str, str, object]) -> bytes:
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


def _open(
    token: bytes, fmt: int, name: str, where: tuple[str, str, object], session: Session | None
) -> bytes:
    version = token_version(token)
    if token[0] != fmt:
        raise DecryptionFailed("the field token holds bytes where text was expected, or back")
    material = _version(name, version, KeyKind.sm4_data, session)
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
    session: Session | None = None,
) -> bytes:
    """Encrypt a text value for ``table.column`` of row ``row_id`` (SM4-GCM token)."""
    name = _data_key_name(table, key)
    material = _active(name, KeyKind.sm4_data, session)
    return _seal(FORMAT_TEXT, value.encode("utf-8"), material, (table, column, row_id))


def decrypt_field(
    token: bytes,
    *,
    table: str,
    column: str,
    row_id: str | int,
    key: str | None = None,
    session: Session | None = None,
) -> str:
    """Decrypt a token made by :func:`encrypt_field` for the same table, column and row."""
    name = _data_key_name(table, key)
    plaintext = _open(bytes(token), FORMAT_TEXT, name, (table, column, row_id), session)
    return plaintext.decode("utf-8")


def encrypt_blob(
    value: bytes,
    *,
    table: str,
    column: str,
    row_id: str | int,
    key: str | None = None,
    session: Session | None = None,
) -> bytes:
    """Encrypt bytes (a photo, a document) for ``table.column`` of row ``row_id``."""
    name = _data_key_name(table, key)
    material = _active(name, KeyKind.sm4_data, session)
    return _seal(FORMAT_BYTES, value, material, (table, column, row_id))


def decrypt_blob(
    token: bytes,
    *,
    table: str,
    column: str,
    row_id: str | int,
    key: str | None = None,
    session: Session | None = None,
) -> bytes:
    """Decrypt a token made by :func:`encrypt_blob`."""
    name = _data_key_name(table, key)
    return _open(bytes(token), FORMAT_BYTES, name, (table, column, row_id), session)


# --- blind indexes -----------------------------------------------------------------------


def normalize(value: str) -> str:
    """NFKC, whitespace stripped and collapsed, ASCII letters upper-cased."""
    return " ".join(unicodedata.normalize("NFKC", value).split()).translate(_UPPER)


def _index(material: Material, value: str, purpose: str, length: int) -> bytes:
    message = b"\x00".join((_INDEX_LABEL, purpose.encode(), normalize(value).encode("utf-8")))
    return primitives.sm3_hmac(material.require_secret(), message)[:length]


def blind_index(
    value: str,
    *,
    purpose: str,
    key: str = DEFAULT_INDEX_KEY,
    length: int = 16,
    session: Session | None = None,
) -> bytes:
    """HMAC-SM3 blind index of ``value`` for ``purpose`` under the active index key."""
    if not 8 <= length <= 32:
        raise InvalidCryptoInput("a blind index is 8 to 32 bytes")
    material = _active(key, KeyKind.hmac_index, session)
    return _index(material, value, purpose, length)


def blind_index_candidates(
    value: str,
    *,
    purpose: str,
    key: str = DEFAULT_INDEX_KEY,
    length: int = 16,
    session: Session | None = None,
) -> list[bytes]:
    """Indexes of ``value`` under the active and every retired index-key version.

    Search with ``WHERE idx IN (...)`` while a re-encryption after an index-key rotation
    has not finished; the active version's index comes first.
    """
    if session is None:
        with db.transaction() as own:
            return blind_index_candidates(
                value, purpose=purpose, key=key, length=length, session=own
            )
    active = _active(key, KeyKind.hmac_index, session)
    info = crypto_service.get_key(session, name=key)
    retired = [v.version for v in reversed(info.versions) if v.status == VersionStatus.retired]
    materials = [active, *(_version(key, v, KeyKind.hmac_index, session) for v in retired)]
    return [_index(m, value, purpose, length) for m in materials]


# --- re-encryption -----------------------------------------------------------------------


@dataclass(slots=True)
class _Run:
    entry: EncryptedTable
    table: Table
    pk_type: type
    data_target: int
    index_target: int | None
    last_pk: Any = None
    rows_scanned: int = 0
    rows_updated: int = 0
    chunks: int = 0
    resumed: bool = False
    finished: bool = False

    def report(self) -> ReencryptReport:
        return ReencryptReport(
            table=self.entry.name,
            data_key_version=self.data_target,
            index_key_version=self.index_target,
            rows_scanned=self.rows_scanned,
            rows_updated=self.rows_updated,
            chunks=self.chunks,
            resumed=self.resumed,
            finished=self.finished,
            last_pk=None if self.last_pk is None else str(self.last_pk),
        )


def _start(session: Session, entry: EncryptedTable) -> _Run:
    """Reflect the table, find the target versions, and resume or reset the checkpoint."""
    table = Table(entry.name, MetaData(), autoload_with=session.connection())
    pk_type = table.c[entry.pk_column].type.python_type
    data_target = _load_active(session, entry.data_key, KeyKind.sm4_data).version
    index_target = (
        _load_active(session, entry.index_key, KeyKind.hmac_index).version
        if entry.blind_index_columns
        else None
    )
    run = _Run(entry, table, pk_type, data_target, index_target)
    checkpoint = repository.get_checkpoint(session, entry.name)
    if checkpoint is None:
        checkpoint = ReencryptCheckpoint(table_name=entry.name, data_key_version=data_target)
        repository.add(session, checkpoint)
    same_target = (checkpoint.data_key_version, checkpoint.index_key_version) == (
        data_target,
        index_target,
    )
    if checkpoint.finished_at is None and same_target and checkpoint.last_pk is not None:
        run.resumed = True
        run.last_pk = pk_type(checkpoint.last_pk)
        run.rows_scanned = checkpoint.rows_scanned
        run.rows_updated = checkpoint.rows_updated
        return run
    now = db.utcnow()
    checkpoint.data_key_version = data_target
    checkpoint.index_key_version = index_target
    checkpoint.last_pk = None
    checkpoint.rows_scanned = checkpoint.rows_updated = 0
    checkpoint.started_at = checkpoint.updated_at = now
    checkpoint.finished_at = None
    session.flush()
    return run


def _row_changes(session: Session, run: _Run, row: Any) -> dict[str, bytes]:
    entry = run.entry
    row_id = getattr(row, entry.pk_column)
    changes: dict[str, bytes] = {}
    plain: dict[str, bytes] = {}
    data_target = _version(entry.data_key, run.data_target, KeyKind.sm4_data, session)
    for column in entry.encrypted_columns:
        token = getattr(row, column)
        if token is None:
            continue
        token = bytes(token)
        fmt = token[0]
        where = (entry.name, column, row_id)
        if token_version(token) != run.data_target:
            plain[column] = _open(token, fmt, entry.data_key, where, session)
            changes[column] = _seal(fmt, plain[column], data_target, where)
        elif column in {source for source, _ in entry.blind_index_columns.values()}:
            plain[column] = _open(token, fmt, entry.data_key, where, session)
    if run.index_target is not None:
        index_key = _version(entry.index_key, run.index_target, KeyKind.hmac_index, session)
        for index_column, (source, purpose) in entry.blind_index_columns.items():
            if source not in plain:
                continue
            value = plain[source].decode("utf-8", "surrogateescape")
            index = _index(index_key, value, purpose, entry.index_length)
            current = getattr(row, index_column)
            if current is None or bytes(current) != index:
                changes[index_column] = index
    return changes


def _chunk(session: Session, run: _Run, batch_size: int) -> int:
    """Re-encrypt the next ``batch_size`` rows; returns how many rows were read."""
    entry, table = run.entry, run.table
    pk = table.c[entry.pk_column]
    columns = {entry.pk_column, *entry.encrypted_columns, *entry.blind_index_columns}
    query = select(*(table.c[c] for c in sorted(columns))).order_by(pk).limit(batch_size)
    if run.last_pk is not None:
        query = query.where(pk > run.last_pk)
    rows = session.execute(query).all()
    updated = 0
    for row in rows:
        changes = _row_changes(session, run, row)
        if changes:
            session.execute(
                update(table).where(pk == getattr(row, entry.pk_column)).values(**changes)
            )
            updated += 1
    checkpoint = repository.get_checkpoint(session, entry.name)
    if checkpoint is None:
        raise RuntimeError(f"the checkpoint of {entry.name} disappeared during re-encryption")
    checkpoint.updated_at = db.utcnow()
    if rows:
        run.last_pk = getattr(rows[-1], entry.pk_column)
        run.rows_scanned += len(rows)
        run.rows_updated += updated
        run.chunks += 1
        checkpoint.last_pk = str(run.last_pk)
        checkpoint.rows_scanned = run.rows_scanned
        checkpoint.rows_updated = run.rows_updated
    else:
        checkpoint.finished_at = checkpoint.updated_at
        run.finished = True
    session.flush()
    return len(rows)


def count_rows(table_name: str) -> int:
    """How many rows registered table ``table_name`` holds (for progress bars)."""
    entry = _registered(table_name)
    with db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(table(entry.name))) or 0)


def reencrypt(
    table: str,
    *,
    batch_size: int = 500,
    progress: Callable[[ReencryptReport], None] | None = None,
) -> ReencryptReport:
    """Bring every token of ``table`` under the active data-key (and index-key) version.

    Walks rows in primary-key order, ``batch_size`` at a time, each chunk in its own
    transaction with a checkpoint, so that an interrupted run continues where it stopped.
    ``progress`` is called after each committed chunk. Run it once the keyring TTL has
    passed after a rotation, so that no worker still writes under the old version.
    """
    if batch_size < 1:
        raise InvalidCryptoInput("the batch size must be at least 1")
    entry = _registered(table)
    with db.transaction() as session:
        run = _start(session, entry)
    while not run.finished:
        with db.transaction() as session:
            _chunk(session, run, batch_size)
        if progress is not None:
            progress(run.report())
    return run.report()
