"""Uploaded import files at rest (sealed, private, dropped when done) and XLSX bounds."""

from __future__ import annotations

import io
import stat
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine

from sscard import db
from sscard.kit.context import Actor
from sscard.registry import fakes
from sscard.registry.imports import files, tabular
from sscard.registry.imports import job as import_job
from sscard.registry.imports import service as imports_service
from sscard.registry.imports.errors import ImportFileInvalid
from sscard.settings import reset_settings

HEADER = ["AAC002", "AAC003", "AAC004", "AAC006", "户籍地区划代码", "AAB301"]


def xlsx(persons: list[fakes.FakePerson]) -> bytes:
    """A workbook of persons (ID numbers as text)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for p in persons:
        sheet.append(
            [
                p.id_number,
                p.name,
                p.gender,
                p.birth_date.isoformat(),
                p.household_region_code,
                p.residence_region_code,
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_SST = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
_SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def bomb(path: Path, inflated: int) -> Path:
    """A valid workbook (header only) whose shared strings inflate to ``inflated`` bytes:
    one string of that length, which every XLSX reader loads whole before the first row."""
    with (
        zipfile.ZipFile(io.BytesIO(xlsx([]))) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "xl/_rels/workbook.xml.rels":
                link = f'<Relationship Type="{_SST}" Target="sharedStrings.xml" Id="rId9" />'
                data = data.replace(b"</Relationships>", link.encode() + b"</Relationships>")
            if member.filename == "[Content_Types].xml":
                part = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SST_TYPE}" />'
                data = data.replace(b"</Types>", part.encode() + b"</Types>")
            target.writestr(member, data)
        with target.open("xl/sharedStrings.xml", "w") as sink:
            ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
            sink.write(f'<sst xmlns="{ns}" count="1" uniqueCount="1"><si><t>'.encode())
            block = b"A" * (1 << 20)
            for _ in range(inflated >> 20):
                sink.write(block)
            sink.write(b"</t></si></sst>")
    return path


@pytest.fixture
def bounds(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Settings changed through the environment for one test."""
    yield monkeypatch
    monkeypatch.undo()
    reset_settings()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_upload_waits_sealed_in_a_private_directory_and_is_gone_when_its_job_is_done(
    engine: Engine, city_clerk: Actor
) -> None:
    persons = list(fakes.persons(411, "370800", 5, employers=[], communities=[]))
    data = xlsx(persons)
    with db.transaction() as session:
        opened = imports_service.submit_upload(
            session, io.BytesIO(data), file_name="名单.xlsx", actor=city_clerk
        )
    assert opened.runnable
    stored = imports_service.imports_dir() / opened.scan.digest
    assert _mode(stored.parent) == 0o700
    assert _mode(stored) == 0o600
    raw = stored.read_bytes()
    assert raw.startswith(files.MAGIC)
    assert b"xl/worksheets" not in raw and data[:64] not in raw
    assert list(files.work_dir().glob("upload-*")) == []

    done = import_job.run(opened.job.id, actor=city_clerk)

    assert done.status == "completed" and done.rows_created == 5, done
    assert not stored.exists()
    assert not files.working_copy(opened.job.id).exists()


def test_a_failed_upload_job_drops_its_upload_and_posting_it_again_resumes(
    engine: Engine, city_clerk: Actor
) -> None:
    persons = list(fakes.persons(412, "370800", 4, employers=[], communities=[]))
    data = xlsx(persons)
    with db.transaction() as session:
        opened = imports_service.submit_upload(
            session, io.BytesIO(data), file_name="a.xlsx", actor=city_clerk
        )
    stored = imports_service.imports_dir() / opened.scan.digest
    with db.transaction() as session:
        imports_service.fail_job(session, job_id=opened.job.id, message="已中断")
    assert not stored.exists()
    with db.transaction() as session:
        again = imports_service.submit_upload(
            session, io.BytesIO(data), file_name="a.xlsx", actor=city_clerk
        )
    assert again.job.id == opened.job.id and stored.exists()
    assert import_job.run(again.job.id, actor=city_clerk).rows_created == 4
    assert not stored.exists()


def test_a_sealed_upload_opens_only_whole_and_unaltered(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "CHUNK", 1000)
    plain = tmp_path / "plain"
    plain.write_bytes(bytes(range(256)) * 20)
    with db.transaction() as session:
        key = files.wrapping_key(session)
    sealed, opened = tmp_path / "sealed", tmp_path / "opened"
    files.seal(plain, sealed, digest="d" * 64, wrapping=key)
    files.unseal(sealed, opened, digest="d" * 64, wrapping=key)
    assert opened.read_bytes() == plain.read_bytes() and _mode(opened) == 0o600
    whole = sealed.read_bytes()
    for damaged in (whole[:-152], whole[:-1040], whole[:-3] + b"xyz", whole + whole[-152:]):
        sealed.write_bytes(damaged)
        with pytest.raises(ImportFileInvalid):
            files.unseal(sealed, opened, digest="d" * 64, wrapping=key)
        assert not opened.exists()
    sealed.write_bytes(whole)
    with pytest.raises(ImportFileInvalid):
        files.unseal(sealed, opened, digest="e" * 64, wrapping=key)


def test_an_xlsx_that_inflates_past_the_bound_is_refused_before_it_is_read(
    tmp_path: Path, bounds: pytest.MonkeyPatch
) -> None:
    bounds.setenv("SSCARD_IMPORT_MAX_UNPACKED_BYTES", str(1024 * 1024))
    reset_settings()
    path = bomb(tmp_path / "bomb.xlsx", 24 << 20)
    assert path.stat().st_size < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(ImportFileInvalid) as refused:
            tabular.scan(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, peak
    assert refused.value.status_code == 422
    assert refused.value.fields[0].field == "file"
    assert "超过上限 1 MB" in refused.value.fields[0].reason


def test_an_xlsx_whose_members_claim_too_much_is_refused(
    tmp_path: Path, bounds: pytest.MonkeyPatch
) -> None:
    bounds.setenv("SSCARD_IMPORT_MAX_ZIP_RATIO", "5")
    reset_settings()
    path = bomb(tmp_path / "ratio.xlsx", 1 << 20)
    with pytest.raises(ImportFileInvalid) as refused:
        tabular.scan(path)
    assert "倍" in refused.value.fields[0].reason
    claimed = tmp_path / "claimed.xlsx"
    with zipfile.ZipFile(claimed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<x/>" * 100)
    raw = bytearray(claimed.read_bytes())
    central = raw.rindex(b"PK\x01\x02")
    raw[central + 24 : central + 28] = (2**31).to_bytes(4, "little")
    claimed.write_bytes(bytes(raw))
    with pytest.raises(ImportFileInvalid, match="超过上限"):
        tabular.scan(claimed)


def test_an_xlsx_with_too_many_cells_is_refused(tmp_path: Path, bounds: pytest.MonkeyPatch) -> None:
    bounds.setenv("SSCARD_IMPORT_MAX_CELLS", "60")
    reset_settings()
    path = tmp_path / "cells.xlsx"
    path.write_bytes(xlsx(list(fakes.persons(413, "370800", 12, employers=[], communities=[]))))
    with pytest.raises(ImportFileInvalid) as refused:
        tabular.scan(path)
    assert "单元格" in refused.value.fields[0].reason
