"""Uploaded import files at rest: private, encrypted while they wait, plain only while read.

An upload (``POST /api/v1/imports``) is received into a private working copy (mode 0600 in
a 0700 directory, :func:`receive`), checked there, and kept for its job encrypted
(:func:`seal`): SM4-GCM under a fresh random key for the file, itself wrapped by the
active version of the ``import-files`` data key (made on first use, like every data key,
under the master key). The file is sealed in chunks of :data:`CHUNK` bytes, each
authenticated with its position and whether it is the last, so a chunk cannot be moved,
dropped or the file cut short unnoticed; memory holds one chunk at a time.

A job's run opens the sealed file into a private working copy (:func:`unseal`) and
removes the copy when the run ends, however it ends; the sealed upload itself is removed
once its job is completed or failed (and its rejects written). A run killed outright may
leave its working copy: the next run of the job (or of any import) replaces or removes
it (:func:`sweep`). Files an operator imports with the CLI are theirs: never moved,
sealed or deleted.

Layout under ``<data_dir>/imports`` (0700): ``<digest>`` sealed uploads,
``job-<id>-rejects.csv`` reject files, ``work/`` the plain working copies.
"""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from sscard.crypto import fields, primitives
from sscard.crypto.errors import DecryptionFailed
from sscard.crypto.service import KeyKind
from sscard.db import new_id
from sscard.registry.imports import tabular
from sscard.registry.imports.errors import ImportFileInvalid
from sscard.settings import get_settings

KEY_NAME = "import-files"
"""The data key (kind ``sm4_data``) that wraps each upload's own key."""
MAGIC = b"SSCIMP1\n"
CHUNK = 1 << 20
_HEAD = struct.Struct(">IH")  # key version, wrapped key length
_LEN = struct.Struct(">I")
STALE_WORK = 24 * 3600
"""Working copies older than this (seconds) are removed by :func:`sweep`."""


def imports_dir() -> Path:
    """Where uploads and reject files are kept: ``<data_dir>/imports`` (made 0700)."""
    return private_dir(get_settings().data_dir / "imports")


def work_dir() -> Path:
    """Where plain working copies live while a file is checked or read (0700)."""
    return private_dir(imports_dir() / "work")


def private_dir(path: Path) -> Path:
    """``path`` as a directory only its owner can enter."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> BinaryIO:
    """A new file (replacing any) that only its owner can read, open for writing."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb")


def receive(source: BinaryIO) -> tuple[Path, str]:
    """Copy an upload into a private working copy; its path and SM3 digest (never empty)."""
    path = work_dir() / f"upload-{new_id()}.part"
    try:
        with private_file(path) as sink:
            digest, size = tabular.digest_stream(source, sink)
        if size == 0:
            raise ImportFileInvalid("上传的文件是空的")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, digest


def wrapping_key(session: Session, version: int | None = None) -> tuple[int, bytes]:
    """The ``import-files`` key (version, secret): the active version (made if missing),
    or ``version``."""
    if version is None:
        material = fields.load_active(session, KEY_NAME, KeyKind.sm4_data)
    else:
        material = fields.load_version(session, KEY_NAME, version, KeyKind.sm4_data)
    return material.version, material.require_secret()


def _key_aad(digest: str, version: int) -> bytes:
    return MAGIC + digest.encode() + b"|key|" + str(version).encode()


def _chunk_aad(digest: str, index: int, last: bool) -> bytes:
    return MAGIC + digest.encode() + struct.pack(">Q?", index, last)


def seal(plain: Path, target: Path, *, digest: str, wrapping: tuple[int, bytes]) -> None:
    """Encrypt ``plain`` to ``target`` (0600) chunk by chunk; ``target`` appears whole."""
    version, secret = wrapping
    file_key = primitives.random_bytes(16)
    wrapped = primitives.sm4_gcm_encrypt(secret, file_key, aad=_key_aad(digest, version))
    partial = target.with_name(f"{target.name}.{new_id()}.part")
    try:
        with plain.open("rb") as source, private_file(partial) as sink:
            sink.write(MAGIC + _HEAD.pack(version, len(wrapped)) + wrapped)
            index = 0
            block = source.read(CHUNK)
            while True:
                following = source.read(CHUNK)
                last = not following
                sealed = primitives.sm4_gcm_encrypt(
                    file_key, block, aad=_chunk_aad(digest, index, last)
                )
                sink.write(_LEN.pack(len(sealed)) + sealed)
                if last:
                    break
                block, index = following, index + 1
            sink.flush()
            os.fsync(sink.fileno())
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def key_version(sealed: Path) -> int:
    """The version of the wrapping key a sealed upload needs."""
    with sealed.open("rb") as handle:
        head = handle.read(len(MAGIC) + _HEAD.size)
    if not head.startswith(MAGIC) or len(head) < len(MAGIC) + _HEAD.size:
        raise ImportFileInvalid(
            f"导入文件 {sealed.name[:12]}… 不是本平台保存的上传文件，请重新上传"
        )
    return int(_HEAD.unpack(head[len(MAGIC) :])[0])


def unseal(sealed: Path, target: Path, *, digest: str, wrapping: tuple[int, bytes]) -> None:
    """Decrypt a sealed upload to ``target`` (0600); ImportFileInvalid if it was altered."""
    damaged = ImportFileInvalid("保存的导入文件已损坏或被改动，请重新上传")
    try:
        with sealed.open("rb") as source, private_file(target) as sink:
            head = source.read(len(MAGIC) + _HEAD.size)
            version, length = _HEAD.unpack(head[len(MAGIC) :])
            if version != wrapping[0]:
                raise damaged
            file_key = primitives.sm4_gcm_decrypt(
                wrapping[1], source.read(length), aad=_key_aad(digest, version)
            )
            index, last = 0, False
            while not last:
                size_bytes = source.read(_LEN.size)
                if len(size_bytes) < _LEN.size:
                    raise damaged
                blob = source.read(_LEN.unpack(size_bytes)[0])
                try:
                    block = primitives.sm4_gcm_decrypt(
                        file_key, blob, aad=_chunk_aad(digest, index, False)
                    )
                except DecryptionFailed:
                    block = primitives.sm4_gcm_decrypt(
                        file_key, blob, aad=_chunk_aad(digest, index, True)
                    )
                    last = True
                sink.write(block)
                index += 1
            if source.read(1):
                raise damaged
    except (DecryptionFailed, struct.error) as exc:
        target.unlink(missing_ok=True)
        raise damaged from exc
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def working_copy(job_id: int) -> Path:
    """Where a job's upload is opened while its run reads it."""
    return work_dir() / f"job-{job_id}.plain"


def sweep(now: float | None = None) -> None:
    """Remove working copies left by runs killed outright (older than :data:`STALE_WORK`)."""
    folder = work_dir()
    cutoff = (now if now is not None else time.time()) - STALE_WORK
    for entry in folder.iterdir():
        try:
            if entry.stat().st_mtime < cutoff:
                entry.unlink(missing_ok=True)
        except OSError:
            continue
