"""The master key: from ``SSCARD_MASTER_KEY`` or a key file, and its check value.

The master key wraps every key version (see :mod:`sscard.crypto.keyring`); it is never
stored in the database, which keeps only its check value.

The key file
------------
A small text file, mode 0600 in a 0700 directory::

    sscard-master-key v1
    origin: development
    created: 2026-11-25T18:15:00+00:00
    key: 00112233445566778899aabbccddeeff
    check: 0123456789abcdef

``origin`` is ``development`` for files written automatically (outside production) and
``production`` for files written by ``sscard keys init-master --production``.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from sscard.crypto import primitives
from sscard.crypto.errors import MasterKeyCorrupt, MasterKeyInsecure, MasterKeyMissing
from sscard.db import utcnow
from sscard.settings import Settings

MAGIC: Final = "sscard-master-key v1"
ORIGINS: Final = ("development", "production")
_CHECK_LABEL: Final = b"sscard master key check value v1"
_HEX32 = re.compile(r"[0-9a-fA-F]{32}")


def check_value(key: bytes) -> str:
    """The master key's check value: HMAC-SM3 of a fixed label, first 8 bytes, hex."""
    return primitives.sm3_hmac(key, _CHECK_LABEL)[:8].hex()


@dataclass(frozen=True, slots=True)
class MasterKey:
    key: bytes = field(repr=False)
    origin: str
    """development | production | environment."""
    source: str
    """Where it came from: the key file's path, or SSCARD_MASTER_KEY."""
    check_value: str
    generated: bool = False
    """Written by this process because no key file existed."""


def _corrupt(path: Path, reason: str) -> MasterKeyCorrupt:
    return MasterKeyCorrupt(f"the master key file {path} is corrupt: {reason}")


def read_master_key_file(path: Path) -> MasterKey:
    """Read and check a key file; refuse one that others may read or that fails its check."""
    try:
        mode = path.stat().st_mode
        content = path.read_text(encoding="ascii")
    except UnicodeDecodeError:
        raise _corrupt(path, "it is not a text file") from None
    except OSError as exc:
        raise MasterKeyCorrupt(
            f"the master key file {path} cannot be read ({exc.strerror})"
        ) from None
    if stat.S_IMODE(mode) & 0o077:
        raise MasterKeyInsecure(
            f"the master key file {path} has mode {stat.S_IMODE(mode):04o}; "
            f"it must be readable by its owner only (chmod 600 {path})"
        )
    lines = [line.strip() for line in content.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if not lines or lines[0] != MAGIC:
        raise _corrupt(path, f"the first line is not '{MAGIC}'")
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or name.strip() not in ("origin", "created", "key", "check"):
            raise _corrupt(path, f"unexpected line '{name.strip()[:20]}'")
        fields[name.strip()] = value.strip()
    for name in ("origin", "key", "check"):
        if name not in fields:
            raise _corrupt(path, f"the '{name}' line is missing")
    if fields["origin"] not in ORIGINS:
        raise _corrupt(path, "origin must be 'development' or 'production'")
    if not _HEX32.fullmatch(fields["key"]):
        raise _corrupt(path, "the key is not 32 hexadecimal characters")
    key = bytes.fromhex(fields["key"])
    if check_value(key) != fields["check"].lower():
        raise _corrupt(path, "the check value does not match the key")
    return MasterKey(key, fields["origin"], str(path), check_value(key))


def write_master_key_file(path: Path, *, origin: str) -> MasterKey:
    """Write a new random master key file (mode 0600, directory 0700); never overwrite."""
    if origin not in ORIGINS:
        raise ValueError(f"origin must be one of {ORIGINS}")
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.chmod(0o700)
    key = primitives.random_bytes(16)
    text = (
        f"{MAGIC}\n"
        f"origin: {origin}\n"
        f"created: {utcnow().isoformat(timespec='seconds')}\n"
        f"key: {key.hex()}\n"
        f"check: {check_value(key)}\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return MasterKey(key, origin, str(path), check_value(key))


def load_master_key(settings: Settings) -> MasterKey:
    """The master key from SSCARD_MASTER_KEY, else the key file (written outside production)."""
    if settings.master_key is not None:
        value = settings.master_key.get_secret_value().strip()
        if not _HEX32.fullmatch(value):
            raise MasterKeyCorrupt("SSCARD_MASTER_KEY must be 32 hexadecimal characters")
        key = bytes.fromhex(value)
        return MasterKey(key, "environment", "SSCARD_MASTER_KEY", check_value(key))
    path = settings.resolved_master_key_file
    if path.exists():
        return read_master_key_file(path)
    if settings.is_production:
        raise MasterKeyMissing(
            f"no master key: {path} does not exist and SSCARD_MASTER_KEY is not set; "
            "create one with 'sscard keys init-master --production'"
        )
    try:
        written = write_master_key_file(path, origin="development")
        return MasterKey(written.key, written.origin, written.source, written.check_value, True)
    except FileExistsError:
        return read_master_key_file(path)
