"""Writing a package row by row in bounded memory."""

from __future__ import annotations

import csv
import os
import shutil
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from sscard.exchange.files.formats import FileFormat
from sscard.exchange.files.manifest import (
    ENCODINGS,
    MANIFEST,
    PHOTO_DIR,
    ROWS,
    SIGNATURE,
    VERSION,
    Manifest,
    Member,
    Signer,
    sm3_file,
    sm3_hex,
)

_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


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
            format=self.fmt.name,
            version=VERSION,
            batch_no=self.batch_no,
            sender=self.sender,
            recipient=self.recipient,
            created_at=(created_at or datetime.now(UTC)).isoformat(timespec="seconds"),
            row_count=self.count,
            columns=self.fmt.names,
            encoding=self.encoding,
            members=(rows,),
            photo_count=self.photo_count,
            photo_bytes=self.photo_bytes,
            signer_key=signer.key,
            signer_fingerprint=signer.fingerprint,
            extra=self.extra,
        )
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
