"""The city's connection to the province card centre (省卡管) for batch card making.

The city sends a batch account-opening package (``POST {province}/batches``), polls its
state (``GET {province}/batches/{batch_no}``) and downloads the result package when it is
ready (``GET {province}/batches/{batch_no}/result``): a pull model, so the city needs no
address the province can reach. Uploads and downloads stream in 1 MiB chunks. The packages
themselves, their keys and their transfer encryption are :mod:`sscard.exchange.files`.

Outcomes: the province refusing a package (422) is ``PackageRejected``; another refusal
(400, 404, 409) ``PeerRefused`` (``province_refused``); no answer, a timeout or a 5xx
``PeerUnavailable`` (``province_unavailable``). Without ``SSCARD_PROVINCE_URL`` the platform
answers 503 ``province_unavailable`` naming it. The state query is retried by the client.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from sscard.exchange.errors import PackageRejected, PeerRefused
from sscard.exchange.peers import client
from sscard.exchange.peers.config import Peer, peer
from sscard.settings import get_settings

UPLOAD_TIMEOUT = 900.0
"""The province checks a whole package before it answers: allow for a large batch."""
CHUNK = 1024 * 1024


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


def _province() -> Peer:
    return peer("province", "省卡管", get_settings().province_url)


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _refused(province: Peer, response: httpx.Response, text: str) -> PeerRefused:
    why = client.reason(response)
    return PeerRefused(province.name, f"{text}：{why}", reason=why)


def submit(*, path: Path, batch_no: str) -> dict[str, Any]:
    """Send a batch package (as it is on disk, wrapped or not); the province's receipt."""
    province = _province()
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-Length": str(path.stat().st_size),
        "X-Batch-No": batch_no,
    }
    response = client.send(
        province,
        "POST",
        "/batches",
        content=_chunks(path),
        headers=headers,
        read_timeout=UPLOAD_TIMEOUT,
        what="报送批次",
    )
    if response.status_code == 422:
        raise PackageRejected(f"省卡管拒收批次 {batch_no}：{client.reason(response)}")
    if response.status_code in client.REFUSAL_STATUSES:
        raise _refused(province, response, f"省卡管未受理批次 {batch_no}")
    return client.answer(province, response)


def state(*, batch_no: str) -> ProvinceState:
    """The province's state of a batch."""
    province = _province()
    response = client.send(province, "GET", f"/batches/{batch_no}", retry=True, what="查询批次")
    if response.status_code == 404:
        raise PeerRefused(province.name, f"省卡管没有批次 {batch_no} 的记录，请先报送")
    if response.status_code in client.REFUSAL_STATUSES:
        raise _refused(province, response, f"省卡管查询批次 {batch_no} 失败")
    body = client.answer(province, response)
    return ProvinceState(
        batch_no=batch_no,
        status=str(body.get("status", "")),
        rows=int(body.get("rows") or 0),
        made=int(body.get("made") or 0),
        failed=int(body.get("failed") or 0),
        detail=str(body.get("detail") or "")[:300],
    )


def download(*, batch_no: str, target: Path, encrypt: bool) -> Path:
    """Download the result package to ``target`` as sent (SM4-GCM wrapped if ``encrypt``)."""
    province = _province()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.download")
    params = {"encrypt": "1"} if encrypt else {}
    path = f"/batches/{batch_no}/result"
    try:
        with client.stream(
            province, "GET", path, params=params, read_timeout=UPLOAD_TIMEOUT, what="下载结果文件"
        ) as response:
            if response.status_code != 200:
                response.read()
                if response.status_code in client.REFUSAL_STATUSES:
                    text = f"省卡管的批次 {batch_no} 结果文件尚不能下载"
                    raise _refused(province, response, text)
                client.check(province, response)
            with partial.open("wb") as out:
                for chunk in response.iter_bytes(CHUNK):
                    out.write(chunk)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target
