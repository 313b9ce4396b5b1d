"""The manifest of a package, SM3 over streams, and who signs and verifies manifests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sscard.crypto import primitives
from sscard.errors import SSCardError
from sscard.exchange.errors import PackageRejected

VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
ROWS = "rows.csv"
PHOTO_DIR = "photos/"
MAX_PHOTO_BYTES = 1024 * 1024
"""A photo member larger than this is refused unread (card photos are 9-60 KB)."""
ENCODINGS = ("UTF-8", "GB18030")
READ_SIZE = 1024 * 1024


# ---- SM3 over streams ------------------------------------------------------------------


def sm3_hasher() -> Any:
    """An incremental SM3 (OpenSSL 3 provides it to ``hashlib``)."""
    try:
        return hashlib.new("sm3")
    except ValueError as exc:  # pragma: no cover - OpenSSL built without SM3
        raise SSCardError("本机 OpenSSL 不支持 SM3，无法处理批量文件", status_code=500) from exc


def sm3_file(path: Path) -> str:
    """SM3 of a whole file, read in chunks (hex)."""
    hasher = sm3_hasher()
    with path.open("rb") as handle:
        while chunk := handle.read(READ_SIZE):
            hasher.update(chunk)
    return str(hasher.hexdigest())


def sm3_hex(data: bytes) -> str:
    return primitives.sm3(data).hex()


# ---- signing ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signer:
    """Who signs a manifest, with which key (named in the manifest), and how."""

    party: str
    key: str
    fingerprint: str
    sign: Callable[[bytes], bytes]


Verifier = Callable[["Manifest", bytes, bytes], bool]
"""``verify(manifest, manifest_bytes, signature)``: whether the sender's key accepts it."""


def key_signer(party: str, key_name: str, private: primitives.SM2PrivateKey) -> Signer:
    """A signer over an SM2 private key held in memory (the peers' way)."""
    return Signer(party, key_name, private.public_key.fingerprint, private.sign)


def key_verifier(keys: Mapping[str, primitives.SM2PublicKey]) -> Verifier:
    """A verifier trusting ``keys`` (party -> public key); other senders are refused."""

    def verify(manifest: Manifest, message: bytes, signature: bytes) -> bool:
        public = keys.get(manifest.sender)
        if public is None:
            raise PackageRejected(f"不认识的发送方 {manifest.sender[:32]}：未配置其签名公钥")
        return public.verify(message, signature)

    return verify


# ---- the manifest ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    size: int
    sm3: str


@dataclass(frozen=True, slots=True)
class Manifest:
    format: str
    version: int
    batch_no: str
    sender: str
    recipient: str
    created_at: str
    row_count: int
    columns: tuple[str, ...]
    encoding: str
    members: tuple[Member, ...]
    photo_count: int
    photo_bytes: int
    signer_key: str
    signer_fingerprint: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        body = {
            "format": self.format,
            "version": self.version,
            "batch_no": self.batch_no,
            "sender": self.sender,
            "recipient": self.recipient,
            "created_at": self.created_at,
            "row_count": self.row_count,
            "columns": list(self.columns),
            "encoding": self.encoding,
            "members": [{"name": m.name, "size": m.size, "sm3": m.sm3} for m in self.members],
            "photos": {"count": self.photo_count, "bytes": self.photo_bytes},
            "signer": {
                "key": self.signer_key,
                "fingerprint": self.signer_fingerprint,
                "algorithm": "SM2-SM3",
                "uid": primitives.DEFAULT_UID.decode(),
            },
            "extra": dict(self.extra),
        }
        return json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")

    def member(self, name: str) -> Member | None:
        return next((m for m in self.members if m.name == name), None)


def _manifest_problem(reason: str) -> PackageRejected:
    return PackageRejected(f"清单 manifest.json 格式错误：{reason}")


def _field(body: Mapping[str, Any], key: str, kind: type, *, limit: int = 200) -> Any:
    value = body.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _manifest_problem(f"缺少或错误的字段 {key}")
    if isinstance(value, str) and len(value) > limit:
        raise _manifest_problem(f"字段 {key} 过长")
    if isinstance(value, int) and value < 0:
        raise _manifest_problem(f"字段 {key} 不能为负数")
    return value


def parse_manifest(data: bytes) -> Manifest:
    """The manifest from its JSON bytes, or PackageRejected naming what is wrong."""
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _manifest_problem("不是 UTF-8 JSON") from None
    if not isinstance(body, dict):
        raise _manifest_problem("应为 JSON 对象")
    members_raw = _field(body, "members", list)
    members = []
    for item in members_raw:
        if not isinstance(item, dict):
            raise _manifest_problem("members 的条目应为对象")
        members.append(
            Member(_field(item, "name", str), _field(item, "size", int), _field(item, "sm3", str))
        )
    photos = body.get("photos") or {}
    signer = _field(body, "signer", dict)
    extra = body.get("extra")
    columns = _field(body, "columns", list)
    if not all(isinstance(c, str) for c in columns):
        raise _manifest_problem("columns 应为列名列表")
    return Manifest(
        format=_field(body, "format", str),
        version=_field(body, "version", int),
        batch_no=_field(body, "batch_no", str, limit=32),
        sender=_field(body, "sender", str, limit=32),
        recipient=_field(body, "recipient", str, limit=32),
        created_at=_field(body, "created_at", str),
        row_count=_field(body, "row_count", int),
        columns=tuple(columns),
        encoding=str(body.get("encoding") or "UTF-8").upper(),
        members=tuple(members),
        photo_count=_field(photos, "count", int) if photos else 0,
        photo_bytes=_field(photos, "bytes", int) if photos else 0,
        signer_key=_field(signer, "key", str, limit=64),
        signer_fingerprint=str(signer.get("fingerprint") or "")[:64],
        extra=extra if isinstance(extra, dict) else {},
    )
