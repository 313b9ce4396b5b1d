"""The person import page over HTTP: upload, progress, rejects in Chinese, refusals, scope."""

from __future__ import annotations

import csv
import io
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from tests.e2e.test_registry_import_api import _csv
from tests.e2e.test_registry_pages import csrf, pages_as
from tests.integration.registry.test_import_uploads import bomb
from tests.support import Account, LiveServer

from sscard import db
from sscard.db import utcnow
from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType
from sscard.iam.schemas import InstitutionCreate
from sscard.kit.context import Actor, ActorKind
from sscard.registry import fakes
from sscard.registry.imports import service as imports_service

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(http: httpx.Client, name: str, data: bytes, kind: str = "text/csv") -> httpx.Response:
    return http.post(
        "/registry/imports", files={"file": (name, data, kind)}, data={"csrf_token": csrf(http)}
    )


def finished(http: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = http.get(f"/registry/imports/{job_id}/progress")
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store"
        job = dict(answer.json())
        if job["finished"]:
            return job
        time.sleep(0.2)
    raise AssertionError(f"import job {job_id} did not finish")


def test_a_clerk_uploads_on_the_page_follows_the_job_and_downloads_the_rejects_in_chinese(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    persons = list(fakes.persons(611, "370800", 12, employers=[], communities=[]))
    with pages_as(live_server, make_account("clerk")) as http:
        form = http.get("/registry/imports")
        assert form.status_code == 200
        assert "文件不超过 200 MB" in form.text

        started = upload(http, "职工名单.csv", _csv(persons, bad_phone_at=2))
        assert started.status_code == 303, started.text
        job_url = started.headers["location"]
        job_id = job_url.rsplit("/", 1)[1]
        page = http.get(job_url)
        assert page.status_code == 200 and "职工名单.csv" in page.text
        assert "文件已上传，正在导入" in page.text

        job = finished(http, job_id)
        assert (job["status_name"], job["imported"], job["updated"], job["rejected"]) == (
            "已完成",
            11,
            0,
            1,
        )
        assert job["percent"] == 100 and job["created_at"].endswith("北京时间")

        rejects = http.get(job["rejects_url"])
        assert rejects.status_code == 200
        assert rejects.headers["content-type"].startswith("text/csv")
        assert rejects.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(rejects.content.decode("utf-8-sig"))))
        masked = persons[2].id_number[:6] + "********" + persons[2].id_number[-4:]
        assert rows == [
            ["行号", "证件号码（已脱敏）", "拒绝原因"],
            ["4", masked, "AAE005: 手机号码应为 11 位数字，以 1 开头"],
        ]

        done = http.get("/registry/imports", params={"status": "completed"}).text
        assert f'href="/registry/imports/{job_id}"' in done
        failed = http.get("/registry/imports", params={"status": "failed"}).text
        assert f'href="/registry/imports/{job_id}"' not in failed
        everything = http.get("/registry/imports", params={"status": "all"}).text
        assert f'href="/registry/imports/{job_id}"' in everything

        repeated = upload(http, "again.csv", _csv(persons, bad_phone_at=2))
        assert repeated.headers["location"] == job_url
        assert "此前已完整导入" in http.get(job_url).text

        rerun = http.post(
            "/registry/imports",
            files={"file": ("again.csv", _csv(persons, bad_phone_at=2), "text/csv")},
            data={"csrf_token": csrf(http), "again": "1"},
        )
        assert rerun.status_code == 303 and rerun.headers["location"] != job_url
        second = finished(http, rerun.headers["location"].rsplit("/", 1)[1])
        assert (second["status"], second["imported"], second["unchanged"]) == ("completed", 0, 11)
        assert second["rejected"] == 1


def test_wrong_files_are_refused_on_the_page_in_chinese_and_leave_no_job(
    live_server: LiveServer, make_account: Callable[..., Account], tmp_path: Path
) -> None:
    with pages_as(live_server, make_account("clerk")) as http:
        before = http.get("/registry/imports").text.count('href="/registry/imports/')

        wrong_type = upload(http, "名单.pdf", b"%PDF-1.4\n", "application/pdf")
        assert wrong_type.status_code == 422
        assert "只能导入 CSV 或 XLSX 文件" in wrong_type.text
        assert 'id="field-file"' in wrong_type.text and "aria-invalid" in wrong_type.text

        empty = http.post("/registry/imports", data={"csrf_token": csrf(http)})
        assert empty.status_code == 422 and "请选择要导入的 CSV 或 XLSX 文件" in empty.text

        headless = upload(http, "x.csv", b"AAC002,AAC003\n1,2\n")
        assert headless.status_code == 422 and "缺少必填列" in headless.text

        path = bomb(tmp_path / "bomb.xlsx", 64 << 20)
        bombed = upload(http, "bomb.xlsx", path.read_bytes(), XLSX)
        assert bombed.status_code == 422 and "疑似压缩炸弹" in bombed.text

        unknown = http.post(
            "/registry/imports",
            files={"file": ("x.csv", _csv([]), "text/csv")},
            data={"csrf_token": csrf(http), "employer_credit_code": "92370812MAA3BTRH89"},
        )
        assert unknown.status_code == 422
        assert "没有这个统一社会信用代码的单位" in unknown.text
        assert 'value="92370812MAA3BTRH89"' in unknown.text

        forged = http.post(
            "/registry/imports",
            files={"file": ("x.csv", _csv([]), "text/csv")},
            data={"csrf_token": "forged"},
        )
        assert forged.status_code == 403 and "页面已过期" in forged.text

        after = http.get("/registry/imports").text.count('href="/registry/imports/')
        assert after == before


def test_posting_the_file_of_a_running_job_shows_that_it_runs_already(
    live_server: LiveServer, make_account: Callable[..., Account], engine: Engine
) -> None:
    data = _csv(list(fakes.persons(612, "370800", 3, employers=[], communities=[])))
    actor = Actor(kind=ActorKind.operator, id="busy-page", name="测试", region_code="370800")
    with db.transaction() as session:
        opened = imports_service.submit_upload(
            session, io.BytesIO(data), file_name="a.csv", actor=actor
        )
    with db.transaction() as session:
        imports_service.claim_job(session, job_id=opened.job.id, now=utcnow())
    try:
        with pages_as(live_server, make_account("clerk")) as http:
            busy = upload(http, "a.csv", data)
            assert busy.status_code == 409
            assert f"导入任务 {opened.job.id} 正在运行" in busy.text
            assert 'id="field-file"' in busy.text
    finally:
        with db.transaction() as session:
            imports_service.fail_job(session, job_id=opened.job.id, message="测试结束")
    with pages_as(live_server, make_account("clerk")) as http:
        failed = http.get(f"/registry/imports/{opened.job.id}")
        assert "失败" in failed.text and "测试结束" in failed.text
        assert "请重新上传同一文件，导入将从中断处（第" in failed.text
        listed = http.get("/registry/imports", params={"status": "failed"}).text
        assert f'href="/registry/imports/{opened.job.id}"' in listed


def hall(region: str = "370811") -> str:
    """A new service hall of ``region``: its institution code."""
    code = f"HI{secrets.token_hex(3).upper()}"
    with db.transaction() as session:
        iam_service.create_institution(
            session,
            data=InstitutionCreate(
                code=code,
                name="测试服务大厅",
                type=InstitutionType.service_hall,
                region_code=region,
            ),
        )
    return code


def test_an_operator_follows_only_the_jobs_of_their_institution(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    persons = list(fakes.persons(613, "370800", 2, employers=[], communities=[]))
    own, other_hall = hall(), hall()
    with pages_as(live_server, make_account("clerk", institution=own)) as http:
        started = upload(http, "own.csv", _csv(persons))
        job_url = started.headers["location"]
        finished(http, job_url.rsplit("/", 1)[1])

    with pages_as(live_server, make_account("clerk", institution=own)) as colleague:
        assert colleague.get(job_url).status_code == 200
    with pages_as(live_server, make_account("admin")) as platform:
        assert platform.get(job_url).status_code == 200
        assert f'href="{job_url}"' in platform.get("/registry/imports").text
    with pages_as(live_server, make_account("clerk", institution=other_hall)) as other:
        refused = other.get(job_url)
        assert refused.status_code == 404 and "不存在" in refused.text
        assert other.get(f"{job_url}/progress").status_code == 404
        assert other.get(f"{job_url}/rejects.csv").status_code == 404
        assert f'href="{job_url}"' not in other.get("/registry/imports").text
    with pages_as(live_server, make_account("card_manager")) as reader:
        denied = reader.get("/registry/imports")
        assert denied.status_code == 403 and "批量导入人员" in denied.text
