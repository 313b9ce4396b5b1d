"""Batch card-making files (批量制卡文件): signed packages of CSV rows and photos (pure I/O).

Design overview
===============

Every file of the batch cycle travels as a *package*, one ZIP file::

    manifest.json        what the package is: format and version, batch number, sender,
                         recipient, creation time, row count, columns, the size and SM3 of
                         rows.csv, the number and total size of the photos, the signing key
    manifest.sig         the sender's SM2 signature (DER, user id 1234567812345678) over the
                         exact bytes of manifest.json
    rows.csv             the rows: UTF-8 (GB18030 accepted on input), a header line of column
                         names (人社 indicator names where they exist), CRLF line ends
    photos/00000001.jpg  formats with photos: one JPEG per row, named by its SEQ; the row's
                         PHOTO column names it and PHOTO_SM3 carries its SM3

The manifest's SM3 of rows.csv covers every row's PHOTO_SM3, so the one signature covers
every member: manifest -> rows.csv -> each photo. :func:`open_package` checks all of it
(signature, digests, sizes, row count, columns, photos, no member too many or missing)
before a single row is used, and refuses the package whole with the reason
(:class:`PackageRejected`).

:class:`PackageWriter` streams: rows go to a temporary file, photos straight into the ZIP
(stored, not compressed: JPEG does not shrink), so memory stays bounded whatever the size
of the batch; rows.csv, the manifest and the signature are added last.

For transfer, a package may be wrapped whole in SM4-GCM (:func:`encrypt_file`): a header
naming the transfer key, then 1 MiB chunks each sealed with its index and a final flag in
the associated data, so that a chunk changed, reordered, dropped or cut off is refused.

Formats and every column are documented in ``docs/formats.md``; keep the two together.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import os
import re
import shutil
import struct
import zipfile
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from sscard.crypto import pem, primitives
from sscard.errors import SSCardError

VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
ROWS = "rows.csv"
PHOTO_DIR = "photos/"
MAX_PHOTO_BYTES = 1024 * 1024
"""A photo member larger than this is refused unread (card photos are 9-60 KB)."""
ENCODINGS = ("UTF-8", "GB18030")
READ_SIZE = 1024 * 1024
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


class PackageRejected(SSCardError):
    """A package whose signature, digest, count or shape is wrong: refused whole."""

    status_code = 422
    code = "package_rejected"


class FileFormatUnknown(SSCardError):
    status_code = 422
    code = "file_format_unknown"


# ---- formats ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    title: str
    required: bool = False
    """A row with this cell empty is refused by the reader of the format (not the package)."""


@dataclass(frozen=True, slots=True)
class FileFormat:
    name: str
    title: str
    columns: tuple[Column, ...]
    photos: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _c(name: str, title: str, required: bool = False) -> Column:
    return Column(name, title, required)


SEQ = _c("SEQ", "序号", True)
CARD_NUMBER = _c("AAZ500", "社会保障卡卡号", True)
ID_NUMBER = _c("AAC002", "社会保障号码（公民身份号码）", True)
DOCUMENT_TYPE = _c("AAC058", "证件类型（省卡管代码）", True)
DOCUMENT_NUMBER = _c("AAC147", "证件号码", True)
NAME = _c("AAC003", "姓名", True)
GENDER = _c("AAC004", "性别（省卡管代码）", True)
ETHNICITY = _c("AAC005", "民族（省卡管代码）", True)
BIRTH_DATE = _c("AAC006", "出生日期（YYYYMMDD）", True)
NATIONALITY = _c("AAC161", "国籍（GB/T 2659 三位字母）")
REGION = _c("AAB301", "发卡地区（行政区划代码）", True)
EMPLOYER = _c("AAB001", "单位编号（省卡管编码）")
EMPLOYER_CREDIT_CODE = _c("EMPLOYER_CREDIT_CODE", "单位统一社会信用代码")
COMMUNITY = _c("COMMUNITY_CODE", "街道/社区编码（省卡管编码）")
CARD_TYPE = _c("CARD_TYPE", "卡类型（省卡管编码）", True)
APPLY_TYPE = _c("APPLY_TYPE", "申领类型：1 新申领，2 补换卡", True)
BANK_CODE = _c("BANK_CODE", "服务银行机构代码", True)
PICKUP_PLACE = _c("PICKUP_PLACE", "领卡网点机构代码")
PHOTO = _c("PHOTO", "照片文件名（包内路径）", True)
PHOTO_SM3 = _c("PHOTO_SM3", "照片 SM3 摘要（64 位十六进制）", True)
BANK_ACCOUNT = _c("BANK_ACCOUNT", "银行卡号（社保卡金融账户）")
RESULT = _c("RESULT", "处理结果：0 成功，1 失败", True)
FAIL_REASON = _c("FAIL_REASON", "失败原因")
FAIL_STAGE = _c("FAIL_STAGE", "失败环节：province 省卡管，bank 银行，vendor 卡商")
CARD_ID_CODE = _c("CARD_ID_CODE", "卡识别码（32 位）")
ATR = _c("ATR", "卡片复位信息 ATR（十六进制）")
ISSUE_DATE = _c("ISSUE_DATE", "发卡日期（YYYYMMDD）")
EXPIRY_DATE = _c("EXPIRY_DATE", "有效期至（YYYYMMDD）")
VENDOR_CODE = _c("VENDOR_CODE", "卡商代码（4 位）")
BOX_NO = _c("BOX_NO", "卡盒号")
BOX_POSITION = _c("BOX_POSITION", "盒内位置（从 1 起）")

ACCOUNT_OPENING = FileFormat(
    "sscard.account-opening",
    "批量开户文件（市卡管→省卡管）",
    (SEQ, CARD_NUMBER, ID_NUMBER, DOCUMENT_TYPE, DOCUMENT_NUMBER, NAME, GENDER, ETHNICITY,
     BIRTH_DATE, NATIONALITY, REGION, EMPLOYER, EMPLOYER_CREDIT_CODE, COMMUNITY, CARD_TYPE,
     APPLY_TYPE, BANK_CODE, PICKUP_PLACE, PHOTO, PHOTO_SM3),
    photos=True,
)  # fmt: skip
BANK_ORDER = FileFormat(
    "province.bank-order",
    "制卡文件·银行开户（省卡管→银行）",
    (SEQ, CARD_NUMBER, ID_NUMBER, DOCUMENT_TYPE, NAME, GENDER, BIRTH_DATE, NATIONALITY, REGION,
     BANK_CODE),
)  # fmt: skip
BANK_RESULT = FileFormat(
    "bank.account-result",
    "银行开户结果（银行→省卡管）",
    (SEQ, CARD_NUMBER, ID_NUMBER, BANK_CODE, BANK_ACCOUNT, RESULT, FAIL_REASON),
)
VENDOR_ORDER = FileFormat(
    "province.vendor-order",
    "制卡文件·卡商制卡（省卡管→卡商，含照片）",
    (SEQ, CARD_NUMBER, ID_NUMBER, NAME, GENDER, ETHNICITY, BIRTH_DATE, NATIONALITY, REGION,
     CARD_TYPE, BANK_CODE, BANK_ACCOUNT, PHOTO, PHOTO_SM3),
    photos=True,
)  # fmt: skip
VENDOR_RESULT = FileFormat(
    "vendor.card-result",
    "卡商制卡结果（卡商→省卡管）",
    (SEQ, CARD_NUMBER, CARD_ID_CODE, ATR, ISSUE_DATE, EXPIRY_DATE, VENDOR_CODE, BOX_NO,
     BOX_POSITION, RESULT, FAIL_REASON),
)  # fmt: skip
CARD_RESULT = FileFormat(
    "province.card-result",
    "制卡结果文件（省卡管→市卡管）",
    (SEQ, CARD_NUMBER, ID_NUMBER, NAME, ISSUE_DATE, EXPIRY_DATE, CARD_ID_CODE, ATR, BANK_CODE,
     BANK_ACCOUNT, VENDOR_CODE, BOX_NO, BOX_POSITION, EMPLOYER, COMMUNITY, CARD_TYPE, RESULT,
     FAIL_STAGE, FAIL_REASON),
)  # fmt: skip

FORMATS: dict[str, FileFormat] = {
    f.name: f
    for f in (ACCOUNT_OPENING, BANK_ORDER, BANK_RESULT, VENDOR_ORDER, VENDOR_RESULT, CARD_RESULT)
}

SUCCESS, FAILURE = "0", "1"
STAGES = {"province": "省卡管", "bank": "银行", "vendor": "卡商"}


def file_format(name: str) -> FileFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise FileFormatUnknown(f"未知的文件格式 {name[:64]}") from None


def yyyymmdd(value: Any) -> str:
    """A date as the files write it (``20261125``); empty for None."""
    return value.strftime("%Y%m%d") if value is not None else ""


def parse_yyyymmdd(value: str) -> datetime | None:
    """``20261125`` as a datetime (date part), None when empty or not a real date."""
    if not re.fullmatch(r"\d{8}", value):
        return None
    try:
        return datetime.strptime(value, "%Y%m%d").replace(tzinfo=UTC)
    except ValueError:
        return None


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
            "format": self.format, "version": self.version, "batch_no": self.batch_no,
            "sender": self.sender, "recipient": self.recipient, "created_at": self.created_at,
            "row_count": self.row_count, "columns": list(self.columns), "encoding": self.encoding,
            "members": [{"name": m.name, "size": m.size, "sm3": m.sm3} for m in self.members],
            "photos": {"count": self.photo_count, "bytes": self.photo_bytes},
            "signer": {"key": self.signer_key, "fingerprint": self.signer_fingerprint,
                       "algorithm": "SM2-SM3", "uid": primitives.DEFAULT_UID.decode()},
            "extra": dict(self.extra),
        }  # fmt: skip
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
        format=_field(body, "format", str), version=_field(body, "version", int),
        batch_no=_field(body, "batch_no", str, limit=32),
        sender=_field(body, "sender", str, limit=32),
        recipient=_field(body, "recipient", str, limit=32),
        created_at=_field(body, "created_at", str), row_count=_field(body, "row_count", int),
        columns=tuple(columns), encoding=str(body.get("encoding") or "UTF-8").upper(),
        members=tuple(members), photo_count=_field(photos, "count", int) if photos else 0,
        photo_bytes=_field(photos, "bytes", int) if photos else 0,
        signer_key=_field(signer, "key", str, limit=64),
        signer_fingerprint=str(signer.get("fingerprint") or "")[:64],
        extra=extra if isinstance(extra, dict) else {},
    )  # fmt: skip


# ---- writing ---------------------------------------------------------------------------


class PackageWriter:
    """Write a package row by row in bounded memory; :meth:`finish` signs and closes it.

    ``SEQ`` is filled in (1, 2, ...) when a row does not carry it; for formats with photos,
    ``PHOTO`` and ``PHOTO_SM3`` are filled in from the photo given with the row.
    """

    def __init__(
        self,
        path: Path,
        *,
        fmt: FileFormat,
        batch_no: str,
        sender: str,
        recipient: str,
        encoding: str = "UTF-8",
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        if encoding.upper() not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}")
        self.path, self.fmt, self.batch_no = path, fmt, batch_no
        self.sender, self.recipient, self.encoding = sender, recipient, encoding.upper()
        self.extra = dict(extra or {})
        self.count = self.photo_count = self.photo_bytes = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._work = path.parent / f".{path.name}.partial"
        shutil.rmtree(self._work, ignore_errors=True)
        self._work.mkdir()
        self._zip = zipfile.ZipFile(self._work / "package.zip", "w", allowZip64=True)
        self._rows: IO[str] = (self._work / ROWS).open(
            "w", encoding=self.encoding, newline="", errors="strict"
        )
        self._csv = csv.writer(self._rows, lineterminator="\r\n")
        self._csv.writerow(fmt.names)
        self._done = False

    def __enter__(self) -> PackageWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._done:
            self.abort()

    def add(self, values: Mapping[str, str], photo: bytes | None = None) -> int:
        """Append a row (and its photo); returns its SEQ."""
        self.count += 1
        row = dict(values)
        seq = int(row.get("SEQ") or self.count)
        row["SEQ"] = str(seq)
        if self.fmt.photos:
            if photo is None:
                raise ValueError("this format carries a photo with every row")
            name = f"{PHOTO_DIR}{seq:08d}.jpg"
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED
            self._zip.writestr(info, photo)
            row["PHOTO"], row["PHOTO_SM3"] = name, sm3_hex(photo)
            self.photo_count += 1
            self.photo_bytes += len(photo)
        self._csv.writerow([row.get(name, "") for name in self.fmt.names])
        return seq

    def finish(self, signer: Signer, *, created_at: datetime | None = None) -> Manifest:
        """Add rows.csv, the manifest and its signature; move the package into place."""
        self._rows.close()
        rows_path = self._work / ROWS
        rows = Member(ROWS, rows_path.stat().st_size, sm3_file(rows_path))
        self._zip.write(rows_path, ROWS, compress_type=zipfile.ZIP_DEFLATED)
        manifest = Manifest(
            format=self.fmt.name, version=VERSION, batch_no=self.batch_no, sender=self.sender,
            recipient=self.recipient,
            created_at=(created_at or datetime.now(UTC)).isoformat(timespec="seconds"),
            row_count=self.count, columns=self.fmt.names, encoding=self.encoding,
            members=(rows,), photo_count=self.photo_count, photo_bytes=self.photo_bytes,
            signer_key=signer.key, signer_fingerprint=signer.fingerprint, extra=self.extra,
        )  # fmt: skip
        body = manifest.to_json()
        self._zip.writestr(zipfile.ZipInfo(MANIFEST, date_time=_ZIP_TIME), body)
        self._zip.writestr(zipfile.ZipInfo(SIGNATURE, date_time=_ZIP_TIME), signer.sign(body))
        self._zip.close()
        os.replace(self._work / "package.zip", self.path)
        shutil.rmtree(self._work, ignore_errors=True)
        self._done = True
        return manifest

    def abort(self) -> None:
        """Throw the unfinished package away."""
        self._done = True
        self._rows.close()
        self._zip.close()
        shutil.rmtree(self._work, ignore_errors=True)


# ---- reading ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its index (0 = first row after the header) and its cells by column."""

    index: int
    cells: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.cells.get(column, "")

    @property
    def line(self) -> int:
        """The row number a person counts (1 = first data row)."""
        return self.index + 1


class Package:
    """An opened, fully verified package; iterate :meth:`rows`, read :meth:`photo`."""

    def __init__(self, path: Path, archive: zipfile.ZipFile, manifest: Manifest) -> None:
        self.path, self._zip, self.manifest = path, archive, manifest
        self.fmt = FORMATS[manifest.format]

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    @property
    def batch_no(self) -> str:
        return self.manifest.batch_no

    def rows(self, start: int = 0) -> Iterator[Row]:
        """Rows from index ``start`` on, in file order."""
        for index, cells in _csv_rows(self._zip, self.manifest):
            if index >= start:
                yield Row(index, cells)

    def photo(self, row: Row) -> bytes:
        """The photo of ``row`` (already checked against its PHOTO_SM3 when opened)."""
        return self._zip.read(row["PHOTO"])


def _reject(reason: str) -> PackageRejected:
    return PackageRejected(f"数据包被拒收：{reason}")


def _read_small(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise _reject(f"缺少 {name}") from None
    if info.file_size > limit:
        raise _reject(f"{name} 过大（{info.file_size} 字节）")
    return archive.read(info)


def _csv_rows(archive: zipfile.ZipFile, manifest: Manifest) -> Iterator[tuple[int, dict[str, str]]]:
    """(index, cells) of every data row; PackageRejected for undecodable or ragged rows."""
    codec = "utf-8-sig" if manifest.encoding == "UTF-8" else "gb18030"
    with archive.open(ROWS) as raw:
        decoder = codecs.getincrementaldecoder(codec)(errors="strict")
        reader = csv.reader(_DecodedText(raw, decoder, manifest.encoding))
        header = next(reader, None)
        if header is None:
            raise _reject("rows.csv 没有表头")
        header = [h.strip() for h in header]
        if tuple(header) != manifest.columns:
            raise _reject("rows.csv 的表头与清单列出的列不一致")
        for index, cells in enumerate(reader):
            if len(cells) != len(header):
                raise _reject(
                    f"rows.csv 第 {index + 1} 行有 {len(cells)} 列，表头有 {len(header)} 列"
                )
            yield index, dict(zip(header, (c.strip() for c in cells), strict=True))


class _DecodedText:
    """Lines of bytes decoded in chunks with a strict decoder; a bad byte names the encoding."""

    def __init__(self, raw: IO[bytes], decoder: codecs.IncrementalDecoder, encoding: str) -> None:
        self._raw, self._decoder, self._encoding = raw, decoder, encoding
        self._lines: deque[str] = deque()
        self._partial = ""
        self._eof = False

    def _fill(self) -> None:
        chunk = self._raw.read(READ_SIZE)
        self._eof = not chunk
        try:
            text = self._partial + self._decoder.decode(chunk, final=self._eof)
        except UnicodeDecodeError:
            raise _reject(f"rows.csv 不是 {self._encoding} 编码") from None
        parts = text.split("\n")
        self._partial = parts.pop()
        self._lines.extend(part + "\n" for part in parts)

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        while not self._lines:
            if self._eof:
                if not self._partial:
                    raise StopIteration
                line, self._partial = self._partial, ""
                return line
            self._fill()
        return self._lines.popleft()


def _check_members(archive: zipfile.ZipFile, manifest: Manifest, fmt: FileFormat) -> None:
    names = archive.namelist()
    if len(set(names)) != len(names):
        raise _reject("包内有重名文件")
    listed = {m.name for m in manifest.members}
    if ROWS not in listed:
        raise _reject("清单未列出 rows.csv")
    photos = [n for n in names if n.startswith(PHOTO_DIR)]
    others = set(names) - set(photos) - {MANIFEST, SIGNATURE}
    if others != listed:
        extra, missing = sorted(others - listed), sorted(listed - others)
        if extra:
            raise _reject(f"包内有清单未列出的文件 {extra[0][:64]}")
        raise _reject(f"缺少清单列出的文件 {missing[0][:64]}")
    if len(photos) != manifest.photo_count or (photos and not fmt.photos):
        raise _reject(f"照片数量不符：清单为 {manifest.photo_count} 张，包内实有 {len(photos)} 张")


def _check_member_digest(archive: zipfile.ZipFile, member: Member) -> None:
    info = archive.getinfo(member.name)
    if info.file_size != member.size:
        raise _reject(
            f"{member.name} 的大小不符：清单为 {member.size} 字节，实为 {info.file_size} 字节"
        )
    hasher = sm3_hasher()
    try:
        with archive.open(info) as handle:
            while chunk := handle.read(READ_SIZE):
                hasher.update(chunk)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise _reject(f"{member.name} 已损坏，无法读取") from None
    if hasher.hexdigest() != member.sm3.lower():
        raise _reject(f"{member.name} 的 SM3 摘要不符：文件已损坏或被篡改")


def _check_rows(archive: zipfile.ZipFile, manifest: Manifest, fmt: FileFormat) -> None:
    missing = [c for c in fmt.names if c not in manifest.columns]
    if missing:
        raise _reject(f"缺少列 {missing[0]}")
    count = photo_bytes = 0
    for index, cells in _csv_rows(archive, manifest):
        count += 1
        if fmt.photos:
            photo_bytes += _check_photo(archive, index, cells)
    if count != manifest.row_count:
        raise _reject(f"行数不符：清单为 {manifest.row_count} 行，rows.csv 实有 {count} 行")
    if fmt.photos and photo_bytes != manifest.photo_bytes:
        raise _reject(
            f"照片总大小不符：清单为 {manifest.photo_bytes} 字节，实为 {photo_bytes} 字节"
        )


def _check_photo(archive: zipfile.ZipFile, index: int, cells: Mapping[str, str]) -> int:
    name, digest = cells.get("PHOTO", ""), cells.get("PHOTO_SM3", "").lower()
    where = f"第 {index + 1} 行的照片 {name[:40]}"
    if not name.startswith(PHOTO_DIR):
        raise _reject(f"{where} 文件名无效")
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise _reject(f"{where} 不在包内") from None
    if info.file_size > MAX_PHOTO_BYTES:
        raise _reject(f"{where} 过大（{info.file_size} 字节）")
    if sm3_hex(archive.read(info)) != digest:
        raise _reject(f"{where} 的 SM3 摘要不符：照片已损坏或被篡改")
    return info.file_size


def open_package(
    path: Path, *, expect: FileFormat | Sequence[FileFormat], verify: Verifier
) -> Package:
    """Open a package and check all of it; PackageRejected (whole) with the reason."""
    allowed = [expect] if isinstance(expect, FileFormat) else list(expect)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise _reject("文件不是有效的数据包（ZIP 格式）") from None
    try:
        body = _read_small(archive, MANIFEST, 16 * 1024 * 1024)
        signature = _read_small(archive, SIGNATURE, 1024)
        manifest = parse_manifest(body)
        fmt = _format_of(manifest, allowed)
        if manifest.encoding not in ENCODINGS:
            raise _reject(f"不支持的编码 {manifest.encoding[:16]}（应为 UTF-8 或 GB18030）")
        if not verify(manifest, body, signature):
            raise _reject(
                f"清单签名验证失败（发送方 {manifest.sender[:32]}，密钥 {manifest.signer_key}）："
                "数据包可能被篡改，或不是用约定的密钥签名"
            )
        _check_members(archive, manifest, fmt)
        for member in manifest.members:
            _check_member_digest(archive, member)
        _check_rows(archive, manifest, fmt)
    except BaseException:
        archive.close()
        raise
    return Package(path, archive, manifest)


def _format_of(manifest: Manifest, allowed: Sequence[FileFormat]) -> FileFormat:
    names = "、".join(f.name for f in allowed)
    fmt = next((f for f in allowed if f.name == manifest.format), None)
    if fmt is None:
        raise _reject(f"文件格式为 {manifest.format[:64]}，应为 {names}")
    if manifest.version != VERSION:
        raise _reject(f"{fmt.title} 版本 {manifest.version} 不受支持（支持版本 {VERSION}）")
    return fmt


def peek_manifest(path: Path) -> Manifest:
    """The manifest of a package, unchecked (to find which batch and key it names)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return parse_manifest(_read_small(archive, MANIFEST, 16 * 1024 * 1024))
    except (zipfile.BadZipFile, OSError):
        raise _reject("文件不是有效的数据包（ZIP 格式）") from None


# ---- transfer encryption (SM4-GCM, framed) -----------------------------------------------

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
        return {"cipher": "SM4-GCM", "chunk": CHUNK, "party": self.party, "key": self.name,
                "version": self.version}  # fmt: skip


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
        raise SSCardError(f"{path} 不是传输密钥文件", code="transfer_key_invalid")
    values = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    try:
        return TransferKey(
            values["party"], values["name"], int(values["version"]), bytes.fromhex(values["key"])
        )
    except (KeyError, ValueError):
        raise SSCardError(f"{path} 缺少字段或格式错误", code="transfer_key_invalid") from None


# ---- partners' keys on disk (the peers, and anyone without a key store) -----------------


def party_signer(key_dir: Path, party: str, *, publish_to: Path | None = None) -> Signer:
    """A party's signer from ``<key_dir>/<party>-sign.key`` (PEM, created 0600 if missing);
    its public key is written to ``<publish_to>/<party>.pem`` for the others to trust."""
    key_dir.mkdir(parents=True, exist_ok=True)
    path = key_dir / f"{party}-sign.key"
    if path.exists():
        private = pem.load_private_key(path.read_bytes())
    else:
        private = primitives.SM2PrivateKey.generate()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(pem.private_key_to_pem(private))
    if publish_to is not None:
        publish_to.mkdir(parents=True, exist_ok=True)
        public = publish_to / f"{party}.pem"
        partial = publish_to / f".{party}.pem.partial"
        partial.write_text(pem.public_key_to_pem(private.public_key), encoding="ascii")
        os.replace(partial, public)
    return key_signer(party, f"{party}-sign", private)


def trust_dir_verifier(trust_dir: Path) -> Verifier:
    """A verifier trusting the ``<party>.pem`` keys in ``trust_dir`` as they are when asked."""

    def verify(manifest: Manifest, message: bytes, signature: bytes) -> bool:
        return key_verifier(trusted_keys(trust_dir))(manifest, message, signature)

    return verify


def trusted_keys(trust_dir: Path) -> dict[str, primitives.SM2PublicKey]:
    """Every ``<party>.pem`` public key in ``trust_dir``, by party."""
    if not trust_dir.is_dir():
        return {}
    return {path.stem: pem.load_public_key(path.read_bytes()) for path in trust_dir.glob("*.pem")}
