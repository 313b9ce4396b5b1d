"""The reject file of an import: one CSV line per rejected row, written before its chunk commits.

Rejects are appended and fsynced just before the chunk that found them commits, so after a
crash the file may hold a few rejects more than the job counts; a resumed run truncates it
to the committed ones, and readers take only those (:func:`reject_lines`).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from sscard.registry.imports.workers import Rejected

REJECT_HEADER = ("line", "id_number", "reasons")


class RejectFile:
    """The CSV (UTF-8 with BOM) of rejected rows: line, masked ID number, reasons."""

    def __init__(self, path: Path, *, keep: int) -> None:
        """Append after the first ``keep`` rejects (those committed); drop any others."""
        self.path = path
        self.handle: IO[str] | None = None
        _truncate(path, keep)

    def _open(self) -> IO[str]:
        if self.handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            exists = self.path.exists() and self.path.stat().st_size > 0
            self.handle = self.path.open("a", encoding="utf-8" if exists else "utf-8-sig")
            if not exists:
                csv.writer(self.handle, lineterminator="\r\n").writerow(REJECT_HEADER)
        return self.handle

    def write(self, rejected: Sequence[Rejected]) -> None:
        """Append rejects and make sure they are on disk before the chunk commits."""
        if not rejected:
            return
        handle = self._open()
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerows((r.line, r.id_number, r.reasons) for r in rejected)
        handle.flush()
        os.fsync(handle.fileno())

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


def _truncate(path: Path, keep: int) -> None:
    """Keep the header and the first ``keep`` rejects (one line each) of a reject file."""
    if not path.exists():
        return
    kept = 0
    with path.open("rb+") as handle:
        handle.readline()
        while kept < keep and handle.readline():
            kept += 1
        handle.truncate(handle.tell())


def reject_lines(path: Path, keep: int) -> Iterator[bytes]:
    """The header and the first ``keep`` rejects of a reject file, as stored (streamed)."""
    with path.open("rb") as handle:
        yield handle.readline()
        for _ in range(keep):
            line = handle.readline()
            if not line:
                return
            yield line
