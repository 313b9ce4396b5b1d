"""Files of rows, read as a stream: CSV (UTF-8 or GB18030, detected) and XLSX.

Design overview
---------------
:func:`scan` reads the file once, in blocks, before any row is imported: it computes the
file's SM3 digest (the key by which an interrupted import is found again), counts its lines
(for the progress bar) and settles the encoding of a CSV file:

- a UTF-8 byte-order mark, or bytes that are valid UTF-8 from start to end: UTF-8;
- bytes that stop being UTF-8 *before* any other non-ASCII byte was seen: GB18030, which
  must then decode the whole file (a GB18030 file almost never starts with valid UTF-8
  Chinese, so the first non-ASCII character decides);
- bytes that stop being UTF-8 *after* valid UTF-8 non-ASCII text: the file is damaged, and
  the import stops before it starts, naming the line, rather than import mojibake.

UTF-16 (what Excel calls "Unicode text") and the old binary ``.xls`` are refused with a
message saying how to save the file instead.

:func:`read_rows` yields ``(line, cells)`` one row at a time: ``line`` is the physical line
of a CSV file where the row ends (the header is line 1) or the row number of the first
worksheet of an XLSX file. CSV cells are strings; XLSX cells keep their type (text, number,
date), so that the caller can tell an ID number Excel turned into a rounded number.
Rows whose cells are all empty are skipped. Memory stays bounded: nothing but the current
row is held, except that an XLSX reader keeps the workbook's shared strings.

An XLSX file is a ZIP archive, which can be made to inflate a thousandfold (a "zip bomb").
Before openpyxl reads anything, :func:`check_xlsx` sums the uncompressed sizes its members
state and refuses the file past ``import_max_unpacked_bytes`` or past
``import_max_zip_ratio`` times its own size (a member that inflates past the size it states
fails its check in :mod:`zipfile`, which stops reading there); a worksheet stating more
than ``import_max_cells`` cells is refused too, and so is one found to hold more while it
is read. openpyxl is handed an open file, never a path: it refuses a path without an
``.xlsx`` name, and kept uploads are named by their digest.

:func:`match_header` maps header cells to field names through an alias table, ignoring
case, surrounding spaces and full-width forms.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import unicodedata
import zipfile
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal

if TYPE_CHECKING:
    import openpyxl

from sscard.crypto import primitives
from sscard.errors import FieldProblem
from sscard.registry.imports.errors import ImportFileInvalid
from sscard.settings import get_settings

Cell = str | int | float | bool | date | datetime | None
FileKind = Literal["csv", "xlsx"]
Rows = Generator[tuple[int, list[Cell]], None, None]

BLOCK = 1 << 20
UTF8 = "utf-8"
UTF8_BOM = "utf-8-sig"
GB18030 = "gb18030"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True, slots=True)
class Scan:
    """What one pass over a file's bytes tells: kind, digest, encoding, size, lines."""

    kind: FileKind
    digest: str
    """SM3 of the file's bytes, 64 hex digits."""
    encoding: str | None
    """``utf-8``, ``utf-8-sig`` or ``gb18030`` for CSV; None for XLSX."""
    size: int
    lines: int
    """Newline count (CSV), or the worksheet's row count when the file states it (XLSX)."""


class _Digest:
    """SM3 over a stream: OpenSSL's through hashlib, or, where OpenSSL lacks SM3, SM3 over
    the SM3 digests of each block (still stable for a given file on a given platform)."""

    def __init__(self) -> None:
        try:
            self._hash: hashlib._Hash | None = hashlib.new("sm3")
        except ValueError:  # pragma: no cover - OpenSSL built without SM3
            self._hash = None
        self._blocks: list[bytes] = []

    def update(self, block: bytes) -> None:
        if self._hash is not None:
            self._hash.update(block)
        else:  # pragma: no cover
            self._blocks.append(primitives.sm3(block))

    def hexdigest(self) -> str:
        if self._hash is not None:
            return self._hash.hexdigest()
        return primitives.sm3(b"".join(self._blocks)).hex()  # pragma: no cover


def sniff_kind(head: bytes) -> FileKind:
    """XLSX by its ZIP signature, else CSV; refuses ``.xls`` and UTF-16 text."""
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    if head.startswith(_OLE_MAGIC):
        raise ImportFileInvalid("不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV（UTF-8）")
    if head.startswith(_UTF16_BOMS):
        raise ImportFileInvalid("不支持 UTF-16（Unicode 文本）文件，请另存为 CSV（UTF-8）")
    return "csv"


class _EncodingCheck:
    """Feeds blocks through a strict UTF-8 decoder and remembers where it broke."""

    def __init__(self) -> None:
        self.decoder = codecs.getincrementaldecoder(UTF8)("strict")
        self.offset = 0
        self.seen_non_ascii = False
        self.failed_at: int | None = None
        self.non_ascii_before_failure = False
        self.bom = False

    def feed(self, block: bytes, final: bool = False) -> None:
        if self.offset == 0 and block.startswith(codecs.BOM_UTF8):
            self.bom = True
        if self.failed_at is None:
            try:
                self.decoder.decode(block, final)
            except UnicodeDecodeError as exc:
                self.failed_at = self.offset + max(exc.start, 0)
                head = block[: max(exc.start, 0)]
                self.non_ascii_before_failure = self.seen_non_ascii or not head.isascii()
            else:
                self.seen_non_ascii = self.seen_non_ascii or not block.isascii()
        self.offset += len(block)


def _line_at(path: Path, offset: int) -> int:
    """The 1-based line holding byte ``offset``."""
    with path.open("rb") as handle:
        return handle.read(offset).count(b"\n") + 1


def _decodes(path: Path, encoding: str) -> int | None:
    """None when the whole file decodes strictly, else the byte offset where it fails."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    with path.open("rb") as handle:
        while block := handle.read(BLOCK):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                return offset + max(exc.start, 0)
            offset += len(block)
        try:
            decoder.decode(b"", True)
        except UnicodeDecodeError:
            return offset
    return None


def _csv_encoding(path: Path, check: _EncodingCheck) -> str:
    """The encoding the check settles on, or ImportFileInvalid naming the line."""
    if check.failed_at is None:
        return UTF8_BOM if check.bom else UTF8
    if check.bom or check.non_ascii_before_failure:
        line = _line_at(path, check.failed_at)
        raise ImportFileInvalid(
            f"文件按 UTF-8 编码读取，但第 {line} 行含有无效的 UTF-8 字节，文件可能已损坏；"
            "请检查该行，或整体另存为 UTF-8 或 GB18030 编码"
        )
    failed = _decodes(path, GB18030)
    if failed is not None:
        line = _line_at(path, failed)
        raise ImportFileInvalid(
            f"文件既不是 UTF-8 也不是 GB18030 编码（第 {line} 行无法识别），请另存为 CSV（UTF-8）"
        )
    return GB18030


def _too_big(reason: str) -> ImportFileInvalid:
    return ImportFileInvalid(
        f"Excel 文件被拒绝：{reason}；请拆分成较小的文件，或另存为 CSV（UTF-8）后导入",
        fields=[FieldProblem("file", reason)],
    )


def check_xlsx(path: Path) -> None:
    """Refuse an XLSX file that would inflate too far, before any part of it is read."""
    settings = get_settings()
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ImportFileInvalid(
            f"无法读取 Excel 文件（文件已损坏或不是 .xlsx）：{type(exc).__name__}",
            fields=[FieldProblem("file", "文件已损坏或不是 .xlsx")],
        ) from exc
    unpacked = sum(member.file_size for member in members)
    size = max(path.stat().st_size, 1)
    mib = 1024 * 1024
    if unpacked > settings.import_max_unpacked_bytes:
        limit = max(settings.import_max_unpacked_bytes // mib, 1)
        raise _too_big(f"解压后有 {unpacked // mib} MB，超过上限 {limit} MB")
    if unpacked > settings.import_max_zip_ratio * size:
        ratio = settings.import_max_zip_ratio
        raise _too_big(
            f"解压后是文件大小的 {unpacked // size} 倍，超过上限 {ratio} 倍（疑似压缩炸弹）"
        )


def _open_book(handle: BinaryIO) -> openpyxl.Workbook:
    import openpyxl

    try:
        return openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ImportFileInvalid(
            f"无法读取 Excel 文件：{type(exc).__name__}: {exc}"[:300],
            fields=[FieldProblem("file", "文件已损坏或不是 .xlsx")],
        ) from exc


def _cells_over(count: int) -> ImportFileInvalid:
    limit = get_settings().import_max_cells
    return _too_big(f"第一个工作表有 {count} 个以上单元格，超过上限 {limit} 个")


def _xlsx_rows_stated(path: Path) -> int:
    """The row count an XLSX worksheet states (0 when it does not); refuses too many cells."""
    check_xlsx(path)
    with path.open("rb") as handle:
        book = _open_book(handle)
        try:
            sheet = book.worksheets[0] if book.worksheets else None
            if sheet is None:
                return 0
            rows, columns = int(sheet.max_row or 0), int(sheet.max_column or 0)
            if rows * columns > get_settings().import_max_cells:
                raise _cells_over(rows * columns)
            return rows
        finally:
            book.close()


def scan(path: Path) -> Scan:
    """Digest, kind, size, line count and (for CSV) encoding of the file at ``path``."""
    digest = _Digest()
    check = _EncodingCheck()
    size = lines = 0
    kind: FileKind | None = None
    with path.open("rb") as handle:
        while block := handle.read(BLOCK):
            if kind is None:
                kind = sniff_kind(block[:8])
            digest.update(block)
            size += len(block)
            lines += block.count(b"\n")
            if kind == "csv":
                check.feed(block)
    if kind is None:
        raise ImportFileInvalid("文件是空的")
    if kind == "xlsx":
        return Scan(kind, digest.hexdigest(), None, size, _xlsx_rows_stated(path))
    check.feed(b"", final=True)
    return Scan(kind, digest.hexdigest(), _csv_encoding(path, check), size, lines)


def digest_stream(source: BinaryIO, sink: BinaryIO) -> tuple[str, int]:
    """Copy ``source`` to ``sink`` block by block; the SM3 digest and the size copied."""
    digest = _Digest()
    size = 0
    while block := source.read(BLOCK):
        digest.update(block)
        sink.write(block)
        size += len(block)
    return digest.hexdigest(), size


def _delimiter(first_line: str) -> str:
    """Comma, unless the header line has tabs and no comma (text saved from Excel)."""
    return "\t" if "\t" in first_line and "," not in first_line else ","


def _csv_rows(path: Path, encoding: str) -> Rows:
    with path.open("r", encoding=encoding, errors="strict", newline="") as handle:
        first = handle.readline()
        handle.seek(0)
        reader = csv.reader(handle, delimiter=_delimiter(first))
        try:
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    yield reader.line_num, list(cells)
        except csv.Error as exc:
            raise ImportFileInvalid(f"第 {reader.line_num} 行不是有效的 CSV：{exc}") from exc
        except UnicodeDecodeError as exc:  # the file changed since it was scanned
            raise ImportFileInvalid(f"第 {reader.line_num + 1} 行编码无效（{exc.reason}）") from exc


def _xlsx_rows(path: Path) -> Rows:
    check_xlsx(path)
    limit = get_settings().import_max_cells
    with path.open("rb") as handle:
        book = _open_book(handle)
        try:
            if not book.worksheets:
                return
            count = 0
            for number, values in enumerate(book.worksheets[0].iter_rows(values_only=True), 1):
                cells: list[Cell] = list(values)
                count += len(cells)
                if count > limit:
                    raise _cells_over(limit)
                if any(c is not None and str(c).strip() for c in cells):
                    yield number, cells
        finally:
            book.close()


def read_rows(path: Path, found: Scan) -> Rows:
    """Every non-empty row, header first, as ``(line, cells)``; see the module overview."""
    if found.kind == "xlsx":
        return _xlsx_rows(path)
    return _csv_rows(path, found.encoding or UTF8)


def header_key(value: Cell) -> str:
    """A header cell as compared: NFKC, spaces removed, case folded, BOM dropped."""
    text = "" if value is None else str(value)
    return "".join(unicodedata.normalize("NFKC", text).replace("\ufeff", "").split()).casefold()


@dataclass(frozen=True, slots=True)
class Header:
    """Which column holds which field, and the title the file gave each field."""

    columns: Mapping[str, int]
    """field -> column index."""
    titles: Mapping[str, str]
    """field -> the header text used in the file (for messages)."""


def match_header(
    cells: Sequence[Cell],
    aliases: Mapping[str, str],
    *,
    required: Sequence[str],
    ignored: frozenset[str] = frozenset(),
    describe: Callable[[str], str] = str,
) -> Header:
    """Map header cells to fields by ``aliases`` (keys as :func:`header_key` makes them).

    Raises ImportFileInvalid naming every unknown column, every field given twice and every
    required field missing (``describe`` says how a missing field may be headed).
    """
    columns: dict[str, int] = {}
    titles: dict[str, str] = {}
    unknown: list[str] = []
    twice: list[str] = []
    for index, cell in enumerate(cells):
        key = header_key(cell)
        if not key or key in ignored:
            continue
        found = aliases.get(key)
        if found is None:
            unknown.append(str(cell).strip())
        elif found in columns:
            twice.append(f"{titles[found]} 与 {str(cell).strip()}")
        else:
            columns[found] = index
            titles[found] = str(cell).strip()
    problems = []
    if unknown:
        problems.append("无法识别的列：" + "、".join(unknown))
    if twice:
        problems.append("重复的列：" + "、".join(twice))
    missing = [describe(f) for f in required if f not in columns]
    if missing:
        problems.append("缺少必填列：" + "、".join(missing))
    if problems:
        raise ImportFileInvalid("表头有误（第 1 行）：" + "；".join(problems))
    return Header(columns, titles)
