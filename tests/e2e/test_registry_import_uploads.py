"""Import uploads through the HTTP API (XLSX, refusals, a busy job) and a killed importer."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine
from tests.e2e.test_registry_import_api import _csv, _poll
from tests.integration.registry.test_import_uploads import bomb, xlsx
from tests.support import Account, LiveServer, login

from sscard import db
from sscard.db import utcnow
from sscard.kit.context import Actor, ActorKind
from sscard.registry import fakes
from sscard.registry.imports import service as imports_service
from sscard.settings import get_settings

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _kept() -> set[str]:
    folder = get_settings().data_dir / "imports"
    return {p.name for p in folder.rglob("*")} if folder.exists() else set()


def test_an_xlsx_upload_imports_and_a_refused_one_leaves_nothing_behind(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    persons = list(fakes.persons(421, "370800", 7, employers=[], communities=[]))
    token = login(live_server, make_account("clerk"))
    with live_server.client(token) as http:
        started = http.post("/api/v1/imports", files={"file": ("名单.xlsx", xlsx(persons), XLSX)})
        assert started.status_code == 202, started.text
        job = _poll(http, started.json()["id"])
        assert job["status"] == "completed" and job["rows_created"] == 7, job

        before = _kept()
        broken = xlsx(persons)[:-200]
        refused = http.post("/api/v1/imports", files={"file": ("坏.xlsx", broken, XLSX)})
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"] == "import_file_invalid"
        assert _kept() <= before
        folder = get_settings().data_dir / "imports"
        assert folder.stat().st_mode & 0o777 == 0o700


def test_an_xlsx_zip_bomb_is_refused_with_the_field_and_the_reason(
    live_server: LiveServer, make_account: Callable[..., Account], tmp_path: Path
) -> None:
    path = bomb(tmp_path / "bomb.xlsx", 64 << 20)
    token = login(live_server, make_account("clerk"))
    with live_server.client(token) as http:
        before = _kept()
        refused = http.post(
            "/api/v1/imports", files={"file": ("bomb.xlsx", path.read_bytes(), XLSX)}
        )
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["error"] == "import_file_invalid"
    assert body["fields"][0]["field"] == "file"
    assert "疑似压缩炸弹" in body["fields"][0]["reason"]
    assert _kept() <= before


def test_posting_the_file_of_a_running_job_again_answers_409(
    live_server: LiveServer, make_account: Callable[..., Account], engine: Engine
) -> None:
    persons = list(fakes.persons(422, "370800", 3, employers=[], communities=[]))
    data = _csv(persons)
    actor = Actor(kind=ActorKind.operator, id="busy-test", name="测试", region_code="370800")
    with db.transaction() as session:
        opened = imports_service.submit_upload(
            session, io.BytesIO(data), file_name="a.csv", actor=actor
        )
    with db.transaction() as session:
        imports_service.claim_job(session, job_id=opened.job.id, now=utcnow())
    token = login(live_server, make_account("clerk"))
    try:
        with live_server.client(token) as http:
            again = http.post("/api/v1/imports", files={"file": ("a.csv", data, "text/csv")})
            assert again.status_code == 409, again.text
            assert again.json()["error"] == "import_job_busy"
            assert http.get(f"/api/v1/imports/{opened.job.id}").json()["status"] == "running"
        assert (imports_service.imports_dir() / opened.scan.digest).exists()
    finally:
        with db.transaction() as session:
            imports_service.fail_job(session, job_id=opened.job.id, message="测试结束")


def _children(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                kids = (task / "children").read_text().split()
            except OSError:
                continue
            for kid in map(int, kids):
                if kid not in found:
                    found.add(kid)
                    todo.append(kid)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _committed(path: Path) -> int:
    """The first line not yet committed by the import of ``path`` (0 before any chunk)."""
    with db.transaction() as session:
        jobs = imports_service.list_jobs(session, limit=20)
        return max((j.next_line for j in jobs if j.file_name == str(path.resolve())), default=0)


def test_killing_the_importer_ends_its_workers(engine: Engine, tmp_path: Path) -> None:
    persons = fakes.persons(423, "370800", 4000, employers=[], communities=[])
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["AAC002", "AAC003", "AAC004", "AAC006", "户籍地区划代码", "AAB301"])
    for p in persons:
        writer.writerow(
            [
                p.id_number,
                p.name,
                p.gender,
                p.birth_date.isoformat(),
                p.household_region_code,
                p.residence_region_code,
            ]
        )
    path = tmp_path / "many.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    log = (tmp_path / "import.log").open("wb")
    importer = subprocess.Popen(
        [sys.executable, "-m", "sscard.cli.main", "registry", "import", str(path)]
        + ["--workers", "2", "--chunk", "20"],
        env=dict(os.environ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    everything: set[int] = set()
    try:
        workers: set[int] = set()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and importer.poll() is None:
            if _committed(path) > 0:  # the workers are started and have prepared rows
                workers = {
                    pid
                    for pid in _children(importer.pid)
                    if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
                }
                break
            time.sleep(0.1)
        assert len(workers) == 2, (tmp_path / "import.log").read_text(errors="replace")
        assert importer.poll() is None, "the import ended before it could be killed"
        everything = _children(importer.pid)
        importer.send_signal(signal.SIGKILL)
        importer.wait(timeout=10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(pid) for pid in everything):
            time.sleep(0.1)
        assert not [pid for pid in everything if _alive(pid)]
    finally:
        if importer.poll() is None:
            importer.kill()
        for pid in everything | _children(importer.pid):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        log.close()
