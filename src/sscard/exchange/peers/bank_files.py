"""The city's connection to a cooperating bank for benefit payment files (待遇发放).

The city uploads a signed payment file (``POST {bank}/disbursement/files``, header
``X-File-No``); the bank credits the accounts and keeps a signed return file, which the
city downloads (``GET {bank}/disbursement/files/{file_no}/return``). The packages are
:mod:`sscard.exchange.files`; the base URL is the bank's entry in ``SSCARD_BANK_URLS``.

Outcomes: the bank refusing a package (422) is ``PackageRejected``; another refusal
(400, 404, 409) ``PeerRefused`` (``bank_refused``); no answer, a timeout or a 5xx
``PeerUnavailable`` (``bank_unavailable``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sscard.exchange.errors import PackageRejected, PeerRefused
from sscard.exchange.peers import client
from sscard.exchange.peers.bank import base_url
from sscard.exchange.peers.config import Peer, peer
from sscard.exchange.peers.province_batch import CHUNK, UPLOAD_TIMEOUT


def _bank(bank_code: str) -> Peer:
    return peer("bank", f"合作银行 {bank_code}", base_url(bank_code), instance=bank_code)


def submit(*, path: Path, file_no: str, bank_code: str) -> dict[str, Any]:
    """Send a payment file as it is on disk; the bank's receipt (rows, paid, failed)."""
    bank = _bank(bank_code)
    headers = {
        "Content-Type": "application/octet-stream",
        "X-File-No": file_no,
    }
    response = client.send(
        bank,
        "POST",
        "/disbursement/files",
        content=path.read_bytes(),
        headers=headers,
        key=f"disbursement:{file_no}",
        read_timeout=UPLOAD_TIMEOUT,
        what="发送待遇发放文件",
    )
    if response.status_code == 422:
        raise PackageRejected(f"银行拒收发放文件 {file_no}：{client.reason(response)}")
    if response.status_code in client.REFUSAL_STATUSES:
        why = client.reason(response)
        raise PeerRefused(bank.name, f"银行未受理发放文件 {file_no}：{why}", reason=why)
    return client.answer(bank, response)


def download_return(*, file_no: str, bank_code: str, target: Path) -> Path:
    """Download the return file of a payment file to ``target``."""
    bank = _bank(bank_code)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.download")
    path = f"/disbursement/files/{file_no}/return"
    try:
        with client.stream(
            bank, "GET", path, read_timeout=UPLOAD_TIMEOUT, what="下载回盘文件"
        ) as response:
            if response.status_code != 200:
                response.read()
                if response.status_code in client.REFUSAL_STATUSES:
                    why = client.reason(response)
                    text = f"银行的发放文件 {file_no} 回盘文件尚不能下载：{why}"
                    raise PeerRefused(bank.name, text, reason=why)
                client.check(bank, response)
            with partial.open("wb") as out:
                for chunk in response.iter_bytes(CHUNK):
                    out.write(chunk)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target
