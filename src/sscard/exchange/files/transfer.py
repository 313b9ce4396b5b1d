"""Transfer encryption (SM4-GCM, framed) and the transfer key files handed to partners."""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sscard.crypto import primitives
from sscard.errors import SSCardError
from sscard.exchange.errors import PackageRejected, TransferKeyInvalid


def _reject(reason: str) -> PackageRejected:
    return PackageRejected(f"数据包被拒收：{reason}")


ENCRYPTED_MAGIC = b"SSCARD-SM4GCM/1\n"
CHUNK = 1024 * 1024
_FRAME = struct.Struct(">BI")


@dataclass(frozen=True, slots=True)
class TransferKey:
    """The SM4 key shared with one party for transfer encryption, and how it is named."""

    party: str
    name: str
    version: int
    key: bytes

    def header(self) -> dict[str, Any]:
        return {
            "cipher": "SM4-GCM",
            "chunk": CHUNK,
            "party": self.party,
            "key": self.name,
            "version": self.version,
        }


def is_encrypted(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(ENCRYPTED_MAGIC)) == ENCRYPTED_MAGIC


def _aad(header: bytes, index: int, final: bool) -> bytes:
    return ENCRYPTED_MAGIC + header + index.to_bytes(8, "big") + bytes((final,))


def encrypt_file(source: Path, target: Path, *, key: TransferKey) -> None:
    """Wrap a file in SM4-GCM chunks under ``key`` (see the module docstring)."""
    header = json.dumps(key.header(), sort_keys=True).encode()
    partial = target.with_name(f".{target.name}.partial")
    with source.open("rb") as src, partial.open("wb") as dst:
        dst.write(ENCRYPTED_MAGIC + len(header).to_bytes(2, "big") + header)
        index, chunk = 0, src.read(CHUNK)
        while True:
            following = src.read(CHUNK) if chunk else b""
            final = not following
            blob = primitives.sm4_gcm_encrypt(key.key, chunk, aad=_aad(header, index, final))
            dst.write(_FRAME.pack(final, len(blob)) + blob)
            if final:
                break
            index, chunk = index + 1, following
    os.replace(partial, target)


def encrypted_header(path: Path) -> dict[str, Any]:
    """The header of an encrypted file: which party's key, which version."""
    with path.open("rb") as handle:
        return _read_header(handle)[1]


def _read_header(handle: IO[bytes]) -> tuple[bytes, dict[str, Any]]:
    if handle.read(len(ENCRYPTED_MAGIC)) != ENCRYPTED_MAGIC:
        raise _reject("不是 SM4-GCM 传输加密文件")
    size = int.from_bytes(handle.read(2), "big")
    header = handle.read(size)
    try:
        parsed = json.loads(header)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _reject("传输加密文件的头部已损坏") from None
    if not isinstance(parsed, dict) or parsed.get("cipher") != "SM4-GCM":
        raise _reject("传输加密文件的头部已损坏")
    return header, parsed


def decrypt_file(source: Path, target: Path, *, key: Callable[[dict[str, Any]], bytes]) -> None:
    """Open a file made by :func:`encrypt_file`; ``key(header)`` gives the SM4 key."""
    partial = target.with_name(f".{target.name}.partial")
    try:
        with source.open("rb") as src, partial.open("wb") as dst:
            header, parsed = _read_header(src)
            secret = key(parsed)
            _decrypt_frames(src, dst, header, secret)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _decrypt_frames(src: IO[bytes], dst: IO[bytes], header: bytes, secret: bytes) -> None:
    index = 0
    while True:
        frame = src.read(_FRAME.size)
        if len(frame) < _FRAME.size:
            raise _reject("传输加密文件不完整（被截断）")
        final, size = _FRAME.unpack(frame)
        if size > CHUNK + 64:
            raise _reject("传输加密文件的分块长度无效")
        blob = src.read(size)
        try:
            dst.write(primitives.sm4_gcm_decrypt(secret, blob, aad=_aad(header, index, final)))
        except SSCardError:
            raise _reject("传输解密失败：传输密钥不符，或文件被篡改") from None
        if final:
            break
        index += 1
    if src.read(1):
        raise _reject("传输加密文件在结束标记之后还有数据")


TRANSFER_KEY_MAGIC = "sscard-transfer-key v1"


def write_transfer_key(path: Path, key: TransferKey) -> None:
    """Write the key file handed to the partner (mode 0600)."""
    text = (
        f"{TRANSFER_KEY_MAGIC}\nparty: {key.party}\nname: {key.name}\n"
        f"version: {key.version}\nkey: {key.key.hex()}\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)


def read_transfer_key(path: Path) -> TransferKey:
    """A key file written by :func:`write_transfer_key`."""
    lines = path.read_text(encoding="ascii").splitlines()
    if not lines or lines[0].strip() != TRANSFER_KEY_MAGIC:
        raise TransferKeyInvalid(f"{path} 不是传输密钥文件")
    values = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    try:
        return TransferKey(
            values["party"], values["name"], int(values["version"]), bytes.fromhex(values["key"])
        )
    except (KeyError, ValueError):
        raise TransferKeyInvalid(f"{path} 缺少字段或格式错误") from None
