"""The daily files a bank and the acquirer send (银行/收单日终对账文件): write and read.

Pure: bytes in, records out; the layout is in docs/formats.md ("payments: daily files").
UTF-8, LF line ends, fields separated by ``|``::

    H|SSCARD-DAILY|1|<source>|<party>|<yyyymmdd>
    D|<ref>|<debit|credit>|<amount fen>|<done|refused>|<UTC time>|<merchant code or empty>
    T|<detail lines>|<done debit fen>|<done credit fen>|<SM3 hex of every byte before T>

A file that breaks any rule is refused whole, naming the line (nothing is imported).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sscard.crypto.primitives import sm3

MAGIC, VERSION = "SSCARD-DAILY", "1"
SOURCES = ("bank", "acquirer")
KINDS = ("debit", "credit")
STATUSES = ("done", "refused")
_REF = re.compile(r"^[A-Za-z0-9:._-]{1,64}$")
_PARTY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_MERCHANT = re.compile(r"^[A-Z0-9]{0,32}$")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


class DailyFileRefused(ValueError):
    """The file breaks the format; ``line`` is the 1-based line at fault (0: the whole file)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"第 {line} 行：{reason}" if line else reason)
        self.line = line
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Header:
    source: str
    party: str
    day: date


@dataclass(frozen=True, slots=True)
class Record:
    """One payment (debit) or refund (credit) as the sender saw it."""

    ref: str
    kind: str
    amount: int
    status: str
    at: str
    merchant: str = ""


def write(header: Header, records: Iterable[Record]) -> bytes:
    """The file for ``records`` (in the order given)."""
    out = io.StringIO()
    out.write(f"H|{MAGIC}|{VERSION}|{header.source}|{header.party}|{header.day:%Y%m%d}\n")
    count = debits = credits = 0
    for r in records:
        out.write(f"D|{r.ref}|{r.kind}|{r.amount}|{r.status}|{r.at}|{r.merchant}\n")
        count += 1
        if r.status == "done":
            if r.kind == "debit":
                debits += r.amount
            else:
                credits += r.amount
    body = out.getvalue().encode()
    return body + f"T|{count}|{debits}|{credits}|{sm3(body).hex()}\n".encode()


def utc_text(at: datetime) -> str:
    """An instant as the file writes it (UTC, to the second)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Parsed:
    """A checked file: its header, its trailer's totals and an iterator over its records."""

    header: Header
    count: int
    debit_fen: int
    credit_fen: int
    digest: str
    data: bytes
    end: int
    """Where the detail lines end (the trailer's first byte)."""

    def records(self) -> Iterator[Record]:
        """The detail records (already checked once by :func:`read`)."""
        return _records(self.data, self.end, check=False)


def read(data: bytes) -> Parsed:
    """Check the whole file (header, every line, trailer counts and SM3) before any use."""
    if not data:
        raise DailyFileRefused(0, "文件为空")
    if not data.endswith(b"\n"):
        raise DailyFileRefused(data.count(b"\n") + 1, "文件不完整：最后一行没有结束（文件被截断）")
    cut = data.rfind(b"\nT|", 0, len(data) - 1)
    lines = data.count(b"\n")
    if cut < 0:
        raise DailyFileRefused(lines, "文件不完整：缺少尾行 T（文件被截断）")
    end = cut + 1
    header = _header(data)
    count, debits, credits, digest = _trailer(data[end:-1], lines)
    if sm3(data[:end]).hex() != digest:
        raise DailyFileRefused(lines, "尾行的 SM3 摘要与文件内容不符（文件被改动或截断）")
    seen = n = d = c = 0
    for n, record in enumerate(_records(data, end, check=True), start=1):
        seen = n
        if record.status == "done":
            if record.kind == "debit":
                d += record.amount
            else:
                c += record.amount
    if (seen, d, c) != (count, debits, credits):
        raise DailyFileRefused(
            lines, f"尾行记载 {count} 笔，明细实有 {seen} 笔，或金额合计不符（文件不完整）"
        )
    return Parsed(header, count, debits, credits, digest, data, end)


def _header(data: bytes) -> Header:
    first = data[: data.find(b"\n")].decode("utf-8", "replace").split("|")
    if len(first) != 6 or first[0] != "H" or first[1] != MAGIC:
        raise DailyFileRefused(1, "首行不是日终对账文件的文件头（应以 H|SSCARD-DAILY 开头）")
    if first[2] != VERSION:
        raise DailyFileRefused(1, f"版本 {first[2]} 不受支持，应为 {VERSION}")
    if first[3] not in SOURCES:
        raise DailyFileRefused(1, f"来源 {first[3]} 应为 bank（银行）或 acquirer（收单机构）")
    if not _PARTY.match(first[4]):
        raise DailyFileRefused(1, "机构代码格式不正确")
    try:
        day = datetime.strptime(first[5], "%Y%m%d").date()
    except ValueError:
        raise DailyFileRefused(1, f"对账日期 {first[5]} 不是有效日期（yyyymmdd）") from None
    return Header(first[3], first[4], day)


def _trailer(line: bytes, number: int) -> tuple[int, int, int, str]:
    parts = line.decode("utf-8", "replace").split("|")
    if len(parts) != 5 or not all(p.isdigit() for p in parts[1:4]):
        raise DailyFileRefused(number, "尾行格式不正确（T|笔数|借记合计|贷记合计|SM3）")
    if not re.fullmatch(r"[0-9a-f]{64}", parts[4]):
        raise DailyFileRefused(number, "尾行的 SM3 摘要应为 64 位十六进制")
    return int(parts[1]), int(parts[2]), int(parts[3]), parts[4]


def _records(data: bytes, end: int, *, check: bool) -> Iterator[Record]:
    stream = io.BytesIO(data)
    stream.readline()
    for number, raw in enumerate(stream, start=2):
        if stream.tell() > end:
            return
        try:
            text = raw.decode("utf-8").rstrip("\n")
        except UnicodeDecodeError:
            raise DailyFileRefused(number, "不是 UTF-8 编码的文本") from None
        f = text.split("|")
        if check:
            _check(number, f)
        yield Record(f[1], f[2], int(f[3]), f[4], f[5], f[6])


def _check(number: int, f: list[str]) -> None:
    if len(f) != 7 or f[0] != "D":
        raise DailyFileRefused(number, "明细行应有 7 个字段，以 D 开头")
    if not _REF.match(f[1]):
        raise DailyFileRefused(number, f"参考号 {f[1][:70]} 格式不正确")
    if f[2] not in KINDS:
        raise DailyFileRefused(number, f"交易类型 {f[2][:20]} 应为 debit（扣款）或 credit（入账）")
    if not f[3].isdigit() or f[3].startswith("0") or len(f[3]) > 15:
        raise DailyFileRefused(number, f"金额 {f[3][:20]} 应为正整数（单位：分）")
    if f[4] not in STATUSES:
        raise DailyFileRefused(number, f"状态 {f[4][:20]} 应为 done（成功）或 refused（失败）")
    if not _TIME.match(f[5]):
        raise DailyFileRefused(number, f"时间 {f[5][:30]} 应为 UTC 时间 yyyy-mm-ddThh:mm:ssZ")
    if not _MERCHANT.match(f[6]):
        raise DailyFileRefused(number, f"商户编号 {f[6][:40]} 格式不正确")
