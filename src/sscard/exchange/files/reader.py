"""Opening a package: everything checked before a single row is used."""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sscard.exchange.errors import PackageRejected
from sscard.exchange.files.formats import FORMATS, FileFormat
from sscard.exchange.files.manifest import (
    ENCODINGS,
    MANIFEST,
    MAX_PHOTO_BYTES,
    PHOTO_DIR,
    READ_SIZE,
    ROWS,
    SIGNATURE,
    VERSION,
    Manifest,
    Member,
    Verifier,
    parse_manifest,
    sm3_hasher,
    sm3_hex,
)


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
