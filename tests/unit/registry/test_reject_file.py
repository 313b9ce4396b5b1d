"""The reject file of an import: appended per chunk, cut back to what was committed."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sscard.registry.imports.rejects import RejectFile, reject_lines
from sscard.registry.imports.workers import Rejected


def _lines(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\xef\xbb\xbf") == 1
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_rejects_are_appended_and_a_resumed_run_drops_the_uncommitted_ones(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rejects.csv"
    first = RejectFile(path, keep=0)
    first.write([Rejected(4, None, "370811********4510", "AAC002: 校验位错误，应为 5")])
    first.write([Rejected(9, None, "", "AAC003: 请填写姓名"), Rejected(12, None, "***", "x: y")])
    first.close()
    assert [row[0] for row in _lines(path)] == ["line", "4", "9", "12"]

    resumed = RejectFile(path, keep=1)
    resumed.write([Rejected(10, None, "", "AAC004: 请填写性别")])
    resumed.close()
    assert _lines(path) == [
        ["line", "id_number", "reasons"],
        ["4", "370811********4510", "AAC002: 校验位错误，应为 5"],
        ["10", "", "AAC004: 请填写性别"],
    ]


def test_nothing_is_written_when_nothing_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "rejects.csv"
    RejectFile(path, keep=0).write([])
    assert not path.exists()


def test_readers_get_only_the_committed_rejects_of_a_broken_off_run(tmp_path: Path) -> None:
    path = tmp_path / "rejects.csv"
    run = RejectFile(path, keep=0)
    run.write([Rejected(4, None, "", "AAC003: 请填写姓名")])
    run.write([Rejected(7, None, "", "AAC004: 请填写性别")])  # its chunk never committed
    run.close()
    shown = b"".join(reject_lines(path, 1)).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(shown))) == [
        ["line", "id_number", "reasons"],
        ["4", "", "AAC003: 请填写姓名"],
    ]
    assert b"".join(reject_lines(path, 5)) == path.read_bytes()
