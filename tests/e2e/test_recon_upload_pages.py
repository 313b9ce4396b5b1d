"""The reconciliation page's upload (导入对账文件) over HTTP on a server of its own (a small
file limit): a daily file imported and shown on its day, the same file again answered with
the first import, and every bad input shown again on the page in Chinese, nothing recorded;
a reader sees no form and is refused the upload."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import Engine, text
from tests.e2e.test_registry_pages import csrf, pages_as
from tests.support import Account, LiveServer, start_server, stop_server

from sscard import db
from sscard.db import utcnow
from sscard.payments.recon import dailyfile
from sscard.payments.recon.dailyfile import Header, Record

LIMIT = 4096
"""SSCARD_RECON_MAX_FILE_BYTES of this module's server."""
UPLOAD_LIMIT = 64 * 1024
"""SSCARD_MAX_UPLOAD_BYTES of this module's server."""


@pytest.fixture(scope="module")
def small_server(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    log = tmp_path_factory.mktemp("recon-upload") / "server.log"
    server = start_server(
        log,
        extra_env={
            "SSCARD_RECON_MAX_FILE_BYTES": str(LIMIT),
            "SSCARD_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT),
        },
    )
    yield server
    stop_server(server)


def _day() -> date:
    return date(2001, 1, 1) + timedelta(days=secrets.randbelow(7_000))


def _file(bank: str, day: date, amounts: list[int]) -> bytes:
    at = dailyfile.utc_text(utcnow())
    records = [
        Record(f"P{secrets.token_hex(8).upper()}", "debit", amount, "done", at)
        for amount in amounts
    ]
    return dailyfile.write(Header("bank", bank, day), records)


def _bank() -> str:
    return f"BUP{secrets.token_hex(4).upper()}"


def upload(http: httpx.Client, name: str, data: bytes, kind: str = "text/plain") -> httpx.Response:
    return http.post(
        "/payments/recon/imports",
        files={"file": (name, data, kind)},
        data={"csrf_token": csrf(http)},
    )


def _imports_of(bank: str) -> int:
    with db.transaction() as session:
        return int(
            session.execute(
                text("SELECT count(*) FROM payments_recon_import WHERE party = :p"), {"p": bank}
            ).scalar_one()
        )


def _differences_of(bank: str) -> int:
    with db.transaction() as session:
        return int(
            session.execute(
                text("SELECT count(*) FROM payments_recon_difference WHERE party = :p"),
                {"p": bank},
            ).scalar_one()
        )


def test_a_clerk_uploads_a_daily_file_sees_its_day_and_the_same_file_again_is_not_reimported(
    small_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    bank, day = _bank(), _day()
    data = _file(bank, day, [1_200, 3_400])  # our books hold nothing that day: 2 differences
    with pages_as(small_server, make_account("clerk")) as http:
        form = http.get("/payments/recon")
        assert form.status_code == 200
        assert (
            'id="recon-upload-form"' in form.text and 'enctype="multipart/form-data"' in form.text
        )
        assert 'accept=".txt,.csv' in form.text and "不超过 4 KB" in form.text

        done = upload(http, f"BANK_{day:%Y%m%d}.txt", data)
        assert done.status_code == 303, done.text
        location = done.headers["location"]
        assert location.startswith(f"/payments/recon?day={day}&imported=")
        shown = http.get(location)
        assert shown.status_code == 200
        assert "对账文件已导入并与我方账务核对完毕" in shown.text
        assert (
            f"银行 {bank} {day} 的对账文件：读入 2 笔，核对一致 0 笔，发现差错 2 笔"
            "（扣款合计 46.00 元，入账合计 0.00 元）"
        ) in shown.text
        assert shown.text.count("对方有、我方无") >= 2
        assert (_imports_of(bank), _differences_of(bank)) == (1, 2)

        again = upload(http, "again.txt", data)
        assert again.status_code == 303 and again.headers["location"] == location
        repeated = http.get(location).text
        assert "这份对账文件此前已导入过，本次未重复导入" in repeated
        assert "读入 2 笔，核对一致 0 笔，发现差错 2 笔" in repeated
        assert (_imports_of(bank), _differences_of(bank)) == (1, 2)

        other = upload(http, "other.txt", _file(bank, day, [999]))
        assert other.status_code == 409, other.text
        assert "已导入过另一份，不能重复导入" in other.text
        assert 'id="form-alert"' in other.text and 'id="recon-upload-form"' in other.text
        assert (_imports_of(bank), _differences_of(bank)) == (1, 2)


@pytest.mark.parametrize(
    ("name", "data", "status", "reason"),
    [
        ("", b"", 422, "请选择要导入的对账文件"),
        ("empty.txt", b"", 422, "文件是空的（0 字节）"),
        ("gbk.txt", "H|SSCARD-DAILY|1|bank|银行|20260101\n".encode("gb18030"), 422, "UTF-8"),
        ("list.xlsx", b"PK\x03\x04", 422, "扩展名 .txt 或 .csv"),
        (
            "header.txt",
            b"H|OTHER|1|bank|B1|20260101\nT|0|0|0|" + b"0" * 64 + b"\n",
            422,
            "第 1 行：首行不是日终对账文件的文件头",
        ),
        ("big.txt", b"D|" + b"x" * LIMIT + b"\n", 422, "文件过大：对账文件不能超过 4 KB"),
    ],
)
def test_a_bad_file_comes_back_on_the_page_in_chinese_and_records_nothing(
    small_server: LiveServer,
    make_account: Callable[..., Account],
    name: str,
    data: bytes,
    status: int,
    reason: str,
) -> None:
    with pages_as(small_server, make_account("clerk")) as http:
        answer = upload(http, name, data)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert reason in answer.text
    assert 'id="form-alert"' in answer.text and 'id="field-file"' in answer.text
    assert 'aria-invalid="true"' in answer.text


def test_a_file_the_service_refuses_names_the_line_and_records_nothing(
    small_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    bank, day = _bank(), _day()
    whole = _file(bank, day, [500, 700, 900])
    cut = whole[: whole.rfind(b"\nT|") + 1] + b"T|2|1200|0|" + b"a" * 64 + b"\n"
    at = dailyfile.utc_text(utcnow())
    bad_amount = dailyfile.write(Header("bank", bank, day), [Record("P1", "debit", 0, "done", at)])
    with pages_as(small_server, make_account("clerk")) as http:
        truncated = upload(http, "cut.csv", whole[:-30])
        assert truncated.status_code == 422
        assert "对账文件被拒绝：第 5 行：文件不完整" in truncated.text
        tampered = upload(http, "tampered.txt", cut)
        assert tampered.status_code == 422 and "SM3 摘要与文件内容不符" in tampered.text
        amount = upload(http, "amount.txt", bad_amount)
        assert amount.status_code == 422
        assert "第 2 行：金额 0 应为正整数（单位：分）" in amount.text
    assert (_imports_of(bank), _differences_of(bank)) == (0, 0)


def test_a_body_over_the_upload_limit_is_refused_413_not_a_500(
    small_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    with pages_as(small_server, make_account("clerk")) as http:
        answer = upload(http, "huge.txt", b"x" * (UPLOAD_LIMIT + 1))
    assert answer.status_code == 413
    assert "请求内容过大" in answer.text


def test_an_expired_page_is_told_to_reload_and_a_reader_gets_no_form_and_a_refusal(
    small_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    bank, day = _bank(), _day()
    data = _file(bank, day, [100])
    with pages_as(small_server, make_account("clerk")) as http:
        stale = http.post(
            "/payments/recon/imports",
            files={"file": ("bank.txt", data, "text/plain")},
            data={"csrf_token": "stale"},
        )
    assert stale.status_code == 403 and "页面已过期，请刷新后重试" in stale.text
    assert 'id="recon-upload-form"' in stale.text

    with pages_as(small_server, make_account("auditor")) as http:
        page = http.get("/payments/recon")
        assert page.status_code == 200
        assert (
            'id="recon-upload-form"' not in page.text and "<h2>导入对账文件</h2>" not in page.text
        )
        refused = upload(http, "bank.txt", data)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert "没有权限" in refused.text and "处理对账差错" in refused.text
    assert _imports_of(bank) == 0
