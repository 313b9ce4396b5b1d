"""The city's connection to the province card centre (省卡管) for batch card making.

The city sends a batch account-opening package (``POST {province}/batches``), polls its
state (``GET {province}/batches/{batch_no}``) and downloads the result package when it is
ready (``GET {province}/batches/{batch_no}/result``): a pull model, so the city needs no
address the province can reach. Uploads and downloads stream in 1 MiB chunks.

Keys (see docs/formats.md, "Keys"):

- ``city-exchange-sign`` (``sm2_sign``): signs the city's manifests; its public key is
  given to the province as PEM (``sscard batch keys --out DIR``).
- ``province-exchange`` (``sm2_partner_public``): the province's public key, imported from
  the PEM file it hands over (``sscard keys import-public province-exchange --in ...``);
  result packages must be signed by it.
- ``exchange-transfer`` (``secret``): the root of the SM4 transfer keys. The key shared
  with one party is derived from it (HMAC-SM3 KDF, context ``sscard-transfer|<party>``)
  and handed to that party once, out of band, as a key file
  (``sscard batch transfer-key province --out FILE``); rotating the secret gives a new
  version, named in every encrypted file's header.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session

from sscard.crypto import service as crypto_service
from sscard.crypto.errors import KeyNotFound
from sscard.errors import ConfigurationError, SSCardError
from sscard.exchange import files
from sscard.settings import get_settings

log = logging.getLogger(__name__)

SIGN_KEY = "city-exchange-sign"
PROVINCE_KEY = "province-exchange"
TRANSFER_ROOT = "exchange-transfer"
PROVINCE = "province"
UPLOAD_TIMEOUT = 900.0
"""The province checks a whole package before it answers: allow for a large batch."""


class ProvinceUnavailable(SSCardError):
    status_code = 503
    code = "province_unavailable"


class ProvinceRefused(SSCardError):
    """The province answered, but not with what the protocol expects."""

    status_code = 502
    code = "province_refused"


@dataclass(frozen=True, slots=True)
class ProvinceState:
    """What the province says about a batch."""

    batch_no: str
    status: str
    """accepted, processing, done or failed."""
    rows: int
    made: int
    failed: int
    detail: str

    @property
    def ready(self) -> bool:
        return self.status == "done"


# ---- keys ------------------------------------------------------------------------------


def city_party() -> str:
    """How the city names itself in manifests: its region code."""
    return get_settings().region_code


def ensure_sign_key(session: Session) -> str:
    """Create the city's signing key if missing; its public key as PEM."""
    crypto_service.ensure_key(
        session, name=SIGN_KEY, kind="sm2_sign", description="批量制卡文件签名（市卡管）"
    )
    return crypto_service.export_public_pem(session, name=SIGN_KEY)


def signer(session: Session) -> files.Signer:
    """The city's manifest signer (key store key ``city-exchange-sign``)."""
    ensure_sign_key(session)
    public = crypto_service.public_key(session, name=SIGN_KEY)

    def sign(message: bytes) -> bytes:
        return crypto_service.sign(session, name=SIGN_KEY, message=message).signature

    return files.Signer(city_party(), SIGN_KEY, public.fingerprint, sign)


def province_verifier(session: Session) -> files.Verifier:
    """Accept manifests signed by the province's imported public key only."""

    def verify(manifest: files.Manifest, message: bytes, signature: bytes) -> bool:
        if manifest.sender != PROVINCE:
            raise files.PackageRejected(f"结果文件的发送方应为省卡管，实为 {manifest.sender[:32]}")
        try:
            return crypto_service.verify(
                session, name=PROVINCE_KEY, message=message, signature=signature
            ).valid
        except KeyNotFound:
            raise ConfigurationError(
                "尚未导入省卡管的签名公钥："
                f"sscard keys import-public {PROVINCE_KEY} --in 省卡管公钥.pem"
            ) from None

    return verify


def transfer_key(session: Session, *, party: str, version: int | None = None) -> files.TransferKey:
    """The SM4 key shared with ``party`` for transfer encryption (derived; see above)."""
    crypto_service.ensure_key(
        session, name=TRANSFER_ROOT, kind="secret", description="批量文件传输加密根密钥"
    )
    derived = crypto_service.derive_key(
        session, name=TRANSFER_ROOT, context=f"sscard-transfer|{party}".encode(), length=16,
        version=version,
    )  # fmt: skip
    return files.TransferKey(party, TRANSFER_ROOT, derived.version, derived.key)


# ---- HTTP ------------------------------------------------------------------------------


def _base_url() -> str:
    url = get_settings().province_url
    if not url:
        raise ConfigurationError("未配置省卡管地址（SSCARD_PROVINCE_URL）")
    return url.rstrip("/")


def _client(timeout: float | None = None) -> httpx.Client:
    settings = get_settings()
    read = timeout or settings.peer_timeout_seconds
    limits = httpx.Timeout(settings.peer_timeout_seconds, read=read, write=read)
    return httpx.Client(base_url=_base_url(), timeout=limits)


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(files.READ_SIZE):
            yield chunk


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("error") or "")[:300]
    return str(body)[:300]


@contextlib.contextmanager
def _calling(what: str) -> Iterator[None]:
    try:
        yield
    except httpx.TimeoutException:
        raise ProvinceUnavailable(f"省卡管系统响应超时（{what}），请稍后重试") from None
    except httpx.HTTPError as exc:
        log.warning("province call failed: %s: %s", what, type(exc).__name__)
        raise ProvinceUnavailable(f"无法连接省卡管系统（{what}），请稍后重试") from None


def submit(*, path: Path, batch_no: str, key: files.TransferKey | None) -> dict[str, Any]:
    """Send a batch package (SM4-GCM wrapped under ``key`` if given); the province's receipt."""
    upload = path
    if key is not None:
        upload = path.with_name(path.name + ".sm4")
        files.encrypt_file(path, upload, key=key)
    size = upload.stat().st_size
    headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size),
               "X-Batch-No": batch_no}  # fmt: skip
    try:
        with _calling("报送批次"), _client(UPLOAD_TIMEOUT) as client:
            response = client.post("/batches", content=_chunks(upload), headers=headers)
    finally:
        if key is not None:
            upload.unlink(missing_ok=True)
    if response.status_code == 422:
        raise files.PackageRejected(f"省卡管拒收批次 {batch_no}：{_detail(response)}")
    if response.status_code not in (200, 201, 202):
        raise ProvinceRefused(f"省卡管未受理批次 {batch_no}：{_detail(response)}")
    return dict(response.json())


def state(*, batch_no: str) -> ProvinceState:
    """The province's state of a batch."""
    with _calling("查询批次"), _client() as client:
        response = client.get(f"/batches/{batch_no}")
    if response.status_code == 404:
        raise ProvinceRefused(f"省卡管没有批次 {batch_no} 的记录，请先报送")
    if response.status_code != 200:
        raise ProvinceRefused(f"省卡管查询批次 {batch_no} 失败：{_detail(response)}")
    body = response.json()
    return ProvinceState(
        batch_no=batch_no, status=str(body.get("status", "")), rows=int(body.get("rows") or 0),
        made=int(body.get("made") or 0), failed=int(body.get("failed") or 0),
        detail=str(body.get("detail") or "")[:300],
    )  # fmt: skip


def download(*, batch_no: str, target: Path, encrypt: bool) -> Path:
    """Download the result package to ``target`` as sent (SM4-GCM wrapped if ``encrypt``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.download")
    params = {"encrypt": "1"} if encrypt else {}
    try:
        with _calling("下载结果文件"), _client(UPLOAD_TIMEOUT) as client:
            with client.stream("GET", f"/batches/{batch_no}/result", params=params) as response:
                if response.status_code != 200:
                    response.read()
                    raise ProvinceRefused(
                        f"省卡管的批次 {batch_no} 结果文件尚不能下载：{_detail(response)}"
                    )
                with partial.open("wb") as out:
                    for chunk in response.iter_bytes(files.READ_SIZE):
                        out.write(chunk)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _key_for(session: Session, header: dict[str, Any]) -> bytes:
    if header.get("party") != PROVINCE or header.get("key") != TRANSFER_ROOT:
        raise files.PackageRejected("结果文件的传输密钥不是与省卡管约定的密钥")
    return transfer_key(session, party=PROVINCE, version=int(header.get("version") or 1)).key


def decrypt_upload(session: Session, *, source: Path, target: Path) -> Path:
    """A result file, SM4-GCM unwrapped into ``target`` when it is wrapped (else ``source``)."""
    if not files.is_encrypted(source):
        return source
    files.decrypt_file(source, target, key=lambda header: _key_for(session, header))
    return target
