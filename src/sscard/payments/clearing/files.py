"""The settlement file (结算文件) for the reserve bank, and its SM3 manifest (pure).

UTF-8, LF line ends, fields separated by ``|`` (docs/formats.md, "payments: settlement
file")::

    H|SSCARD-SETTLE|1|<yyyymmdd>|<reserve bank>
    D|<seq>|<merchant code>|<name>|<bank>|<account>|<pay fen>|<refund fen>|<fee fen>|<settle fen>
    T|<lines>|<settle fen total>|<SM3 hex of every byte before T>

The manifest (``.manifest.json``) names the file, its size, its SM3, the day, the line
count and the total.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sscard.crypto.primitives import sm3


@dataclass(frozen=True, slots=True)
class SettlementLine:
    merchant: str
    name: str
    bank: str
    account: str
    pay_fen: int
    refund_fen: int
    fee_fen: int
    settle_fen: int


def _clean(text: str) -> str:
    return text.replace("|", "／").replace("\n", " ")


def file_name(day: date) -> str:
    return f"STL_{day:%Y%m%d}.txt"


def write(day: date, bank: str, lines: Sequence[SettlementLine]) -> tuple[bytes, bytes]:
    """The settlement file and its manifest."""
    rows = [f"H|SSCARD-SETTLE|1|{day:%Y%m%d}|{bank}"]
    for seq, x in enumerate(lines, start=1):
        rows.append(
            f"D|{seq}|{x.merchant}|{_clean(x.name)}|{_clean(x.bank)}|{x.account}"
            f"|{x.pay_fen}|{x.refund_fen}|{x.fee_fen}|{x.settle_fen}"
        )
    body = ("\n".join(rows) + "\n").encode()
    total = sum(x.settle_fen for x in lines)
    data = body + f"T|{len(lines)}|{total}|{sm3(body).hex()}\n".encode()
    manifest = {
        "format": "SSCARD-SETTLE",
        "version": 1,
        "day": f"{day:%Y-%m-%d}",
        "file": file_name(day),
        "size": len(data),
        "sm3": sm3(data).hex(),
        "lines": len(lines),
        "settle_fen": total,
    }
    return data, json.dumps(manifest, ensure_ascii=False, indent=2).encode()
