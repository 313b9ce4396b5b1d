"""Card-making failures on the pages: resubmit and mark-handled are separate actions, each
behind a confirmation; a handled failure is listed under 已处理 and can be reopened with a
reason; the same over the API and the CLI."""

from __future__ import annotations

from collections.abc import Callable

from tests.e2e.test_issuance_pages import batch_with_a_failure, card_status, csrf, pages_as
from tests.support import Account, LiveServer, login


def test_a_failure_is_handled_after_a_confirmation_listed_as_handled_and_reopened(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    batch_no, failed, failure_id = batch_with_a_failure()
    with pages_as(live_server, make_account("card_manager")) as http:
        listing = http.get("/cards/failures").text
        assert f'id="failure-{failure_id}-resubmit"' in listing
        assert f'id="failure-{failure_id}-resolve"' in listing
        assert f'id="failure-{failure_id}-reopen"' not in listing

        confirm = http.get(f"/cards/failures/{failure_id}/resolve", params={"status": "open"})
        assert confirm.status_code == 200
        assert "确认后" in confirm.text and 'name="confirmed" value="yes"' in confirm.text
        assert failed.person.id_number not in confirm.text

        unconfirmed = http.post(
            f"/cards/failures/{failure_id}/resolve",
            data={"note": "照片已重新采集", "status": "open", "csrf_token": csrf(http)},
        )
        assert unconfirmed.status_code == 200 and 'id="confirm-form"' in unconfirmed.text
        assert 'value="照片已重新采集"' in unconfirmed.text
        assert f'id="failure-{failure_id}-resolve"' in http.get("/cards/failures").text

        short = http.post(
            f"/cards/failures/{failure_id}/resolve",
            data={"note": "x", "confirmed": "yes", "status": "open", "csrf_token": csrf(http)},
        )
        assert short.status_code == 422 and "请填写处理说明" in short.text
        assert 'value="x"' in short.text

        done = http.post(
            f"/cards/failures/{failure_id}/resolve",
            data={
                "note": "持卡人放弃制卡",
                "confirmed": "yes",
                "status": "open",
                "csrf_token": csrf(http),
            },
        )
        assert done.status_code == 303 and done.headers["location"] == "/cards/failures?status=open"
        assert "已标记为已处理" in http.get(done.headers["location"]).text
        assert f'id="failure-{failure_id}"' not in http.get("/cards/failures").text
        handled = http.get("/cards/failures", params={"status": "closed"}).text
        assert f'id="failure-{failure_id}-reopen"' in handled and "持卡人放弃制卡" in handled
        assert f'id="failure-{failure_id}"' in http.get("/cards/failures?status=all").text
        assert card_status(failed.card_id) == "failed"

        twice = http.get(f"/cards/failures/{failure_id}/resolve")
        assert 'id="unavailable"' in twice.text and 'id="confirm-form"' not in twice.text

        reopened = http.post(
            f"/cards/failures/{failure_id}/reopen",
            data={
                "note": "持卡人又来申请",
                "confirmed": "yes",
                "batch_no": batch_no,
                "csrf_token": csrf(http),
            },
        )
        assert reopened.status_code == 303
        assert reopened.headers["location"] == f"/cards/batches/{batch_no}"
        assert f'id="failure-{failure_id}-resubmit"' in http.get("/cards/failures").text
        timeline = http.get(f"/cards/c/{failed.card_id}").text
        assert "制卡失败已处理" in timeline and "制卡失败重新打开" in timeline


def test_a_failure_is_reopened_over_the_api_but_not_one_still_open(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    _batch_no, _failed, failure_id = batch_with_a_failure()
    with live_server.client(login(live_server, make_account("card_manager"))) as http:
        early = http.post(f"/api/v1/failures/{failure_id}/reopen", json={"note": "重新核对"})
        assert early.status_code == 409
        assert early.json()["error"] == "failure_state_conflict"
        closed = http.post(f"/api/v1/failures/{failure_id}/resolve", json={"note": "已处理完毕"})
        assert closed.json()["status"] == "closed"
        reopened = http.post(f"/api/v1/failures/{failure_id}/reopen", json={"note": "重新核对"})
        assert reopened.status_code == 200, reopened.text
        assert (reopened.json()["status"], reopened.json()["resolution"]) == ("open", None)
        listed = http.get("/api/v1/failures", params={"status": "open"}).json()
        assert failure_id in [f["id"] for f in listed]
