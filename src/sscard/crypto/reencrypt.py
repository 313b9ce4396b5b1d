"""Re-encryption after a key rotation: bring every token of a registered table under the
active data-key (and index-key) version, chunk by chunk, resumable from a checkpoint.

Tables are registered by the component that owns them
(:func:`sscard.crypto.fields.register_encrypted_table`); the walker reflects the table, so
it needs no model of another component.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import MetaData, Table, select, update
from sqlalchemy.orm import Session

from sscard import db
from sscard.crypto import fields, repository
from sscard.crypto.errors import InvalidCryptoInput
from sscard.crypto.models import KeyKind, ReencryptCheckpoint
from sscard.crypto.schemas import ReencryptReport


@dataclass(slots=True)
class _Run:
    entry: fields.EncryptedTable
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


def _start(session: Session, entry: fields.EncryptedTable) -> _Run:
    """Reflect the table, find the target versions, and resume or reset the checkpoint."""
    table = Table(entry.name, MetaData(), autoload_with=session.connection())
    pk_type = table.c[entry.pk_column].type.python_type
    data_target = fields.load_active(session, entry.data_key, KeyKind.sm4_data).version
    index_target = (
        fields.load_active(session, entry.index_key, KeyKind.hmac_index).version
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
    data_target = fields.load_version(session, entry.data_key, run.data_target, KeyKind.sm4_data)
    for column in entry.encrypted_columns:
        token = getattr(row, column)
        if token is None:
            continue
        token = bytes(token)
        fmt = token[0]
        where = (entry.name, column, row_id)
        if fields.token_version(token) != run.data_target:
            plain[column] = fields.open_token(session, token, fmt, entry.data_key, where)
            changes[column] = fields.seal(fmt, plain[column], data_target, where)
        elif column in {source for source, _ in entry.blind_index_columns.values()}:
            plain[column] = fields.open_token(session, token, fmt, entry.data_key, where)
    if run.index_target is not None:
        index_key = fields.load_version(
            session, entry.index_key, run.index_target, KeyKind.hmac_index
        )
        for index_column, (source, purpose) in entry.blind_index_columns.items():
            if source not in plain:
                continue
            value = plain[source].decode("utf-8", "surrogateescape")
            index = fields.index_of(index_key, value, purpose, entry.index_length)
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


def count_rows(session: Session, table_name: str) -> int:
    """How many rows registered table ``table_name`` holds (for progress bars)."""
    entry = fields.registered(table_name)
    return repository.count_rows(session, entry.name)


def reencrypt(
    table: str,
    *,
    batch_size: int = 500,
    progress: Callable[[ReencryptReport], None] | None = None,
) -> ReencryptReport:
    """Bring every token of ``table`` under the active data-key (and index-key) version.

    Unit of work: a long job with transactions of its own, not the caller's. The first
    finds the target versions and the checkpoint; then rows are walked in primary-key
    order, ``batch_size`` at a time, each chunk in its own transaction with the checkpoint,
    so that an interrupted run continues where it stopped.
    ``progress`` is called after each committed chunk. Run it once the keyring TTL has
    passed after a rotation, so that no worker still writes under the old version.
    """
    if batch_size < 1:
        raise InvalidCryptoInput("the batch size must be at least 1")
    entry = fields.registered(table)
    with db.transaction() as session:
        run = _start(session, entry)
    while not run.finished:
        with db.transaction() as session:
            _chunk(session, run, batch_size)
        if progress is not None:
            progress(run.report())
    return run.report()
