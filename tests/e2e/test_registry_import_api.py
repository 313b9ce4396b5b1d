"""Employer bulk uploads through the HTTP API: an asynchronous job, polled to the end."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from typing import Any

import httpx
from tests.support import Account, LiveServer, login

from sscard.registry import fakes

HEADER = [
    "AAC002",
    "AAC003",
    "AAC004",
    "AAC006",
    "AAE005",
    "户籍地区划代码",
    "AAB301",
]


def _csv(persons: list[fakes.FakePerson], *, bad_phone_at: int | None = None) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for n, p in enumerate(persons):
        phone = "123" if n == bad_phone_at else p.phone
        writer.writerow(
            [
                p.id_number,
                p.name,
                p.gender,
                p.birth_date.isoformat(),
                phone,
                p.household_region_code,
                p.residence_region_code,
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def _poll(http: httpx.Client, job_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = http.get(f"/api/v1/imports/{job_id}").json()
        if job["status"] in ("completed", "failed"):
            return dict(job)
        time.sleep(0.1)
    raise AssertionError(f"import job {job_id} did not finish: {job}")


def test_a_clerk_uploads_a_file_polls_the_job_and_fetches_the_rejects(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    persons = list(fakes.persons(201, "370800", 25, employers=[], communities=[]))
    data = _csv(persons, bad_phone_at=3)
    token = login(live_server, make_account("clerk"))
    with live_server.client(token) as http:
        started = http.post("/api/v1/imports", files={"file": ("员工名单.csv", data, "text/csv")})
        assert started.status_code == 202, started.text
        assert started.json()["file_name"] == "员工名单.csv"
        job = _poll(http, started.json()["id"])
        assert job["status"] == "completed", job
        assert (job["rows_created"], job["rows_rejected"], job["has_rejects"]) == (24, 1, True)

        rejects = http.get(f"/api/v1/imports/{job['id']}/rejects.csv")
        assert rejects.status_code == 200
        assert rejects.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(rejects.content.decode("utf-8-sig"))))
        assert rows == [
            {
                "line": "5",
                "id_number": persons[3].id_number[:6] + "********" + persons[3].id_number[-4:],
                "reasons": "AAE005: 手机号码应为 11 位数字，以 1 开头",
            }
        ]
        shown = http.get(f"/api/v1/persons/{persons[0].id_number}")
        assert shown.status_code == 200 and shown.json()["masked"] is True

        listed = http.get("/api/v1/imports").json()
        assert job["id"] in [j["id"] for j in listed]
        again = http.post("/api/v1/imports", files={"file": ("again.csv", data, "text/csv")})
        assert again.status_code == 200 and again.json()["id"] == job["id"]


def test_a_bad_file_is_refused_at_once_and_uploads_need_the_permission(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    clerk = login(live_server, make_account("clerk"))
    with live_server.client(clerk) as http:
        missing = http.post(
            "/api/v1/imports", files={"file": ("x.csv", b"AAC002,AAC003\n1,2\n", "text/csv")}
        )
        assert missing.status_code == 422
        assert missing.json()["error"] == "import_file_invalid"
        assert "缺少必填列" in missing.json()["detail"]
        unknown = http.post(
            "/api/v1/imports",
            files={"file": ("x.csv", _csv([]), "text/csv")},
            data={"employer_credit_code": "92370812MAA3BTRH89"},
        )
        assert unknown.status_code == 404
        assert http.get("/api/v1/imports/999999").status_code == 404
    reader = login(live_server, make_account("bank_agent"))
    with live_server.client(reader) as http:
        refused = http.post("/api/v1/imports", files={"file": ("x.csv", _csv([]), "text/csv")})
        assert refused.status_code == 403


def test_the_api_shows_an_import_job_only_to_operators_of_the_institution_that_started_it(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    from tests.e2e.test_registry_import_pages import hall

    persons = list(fakes.persons(207, "370811", 4, employers=[], communities=[]))
    own, other = hall(), hall()
    with live_server.client(login(live_server, make_account("clerk", institution=own))) as http:
        started = http.post(
            "/api/v1/imports",
            files={"file": ("名单.csv", _csv(persons, bad_phone_at=1), "text/csv")},
        )
        assert started.status_code == 202, started.text
        job = _poll(http, started.json()["id"])
        assert job["rows_rejected"] == 1
        assert [j["id"] for j in http.get("/api/v1/imports").json()] == [job["id"]]
        finished = http.get("/api/v1/imports", params={"status": "completed"}).json()
        assert [j["id"] for j in finished] == [job["id"]]
    with live_server.client(login(live_server, make_account("clerk", institution=other))) as http:
        assert job["id"] not in [j["id"] for j in http.get("/api/v1/imports").json()]
        for path in (f"/api/v1/imports/{job['id']}", f"/api/v1/imports/{job['id']}/rejects.csv"):
            refused = http.get(path)
            assert refused.status_code == 404, path
            assert refused.json()["error"] == "import_job_not_found"
