"""The peers of online banking and contributions, in-process: the bank's pay page checks
the platform's signature, debits once and signs its notice; the social insurance system
records one contribution per person and year; the acquirer keeps its records masked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from peers.acquirer import app as acquirer_app
from peers.acquirer.store import Records
from peers.bank import batch
from peers.bank.app import create_app as bank_app
from peers.social.app import create_app as social_app

from sscard.crypto import pem, primitives
from sscard.db import CHINA_TZ
from sscard.payments.online import signing

BANK = "BANK-ICBC"


@pytest.fixture
def bank(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("PEER_DATA_DIR", str(tmp_path / "bank"))
    monkeypatch.setenv("PEER_TRUST_DIR", str(tmp_path / "trust"))
    batch.bank.cache_clear()
    platform = primitives.SM2PrivateKey.generate()
    (tmp_path / "trust").mkdir()
    (tmp_path / "trust" / "370800-pay.pem").write_text(pem.public_key_to_pem(platform.public_key))
    with TestClient(bank_app()) as client:
        client.put("/control/paypage", json={"hold_notices": True})
        opened = client.post("/accounts", json={"bank_code": BANK, "card_number": "A00000001"})
        account = opened.json()["account"]
        body = {"bank_code": BANK, "card_number": "A00000001", "account": account}
        client.post("/accounts/activate", json=body)
        client.post("/control/postings", json={**body, "amount_fen": 50000, "kind": "deposit"})
        yield {"client": client, "key": platform, "account": account, "trust": tmp_path / "trust"}
    batch.bank.cache_clear()


def _request(key: primitives.SM2PrivateKey, **changes: Any) -> dict[str, str]:
    message = {
        "order_no": "P2026120412345678901",
        "bank_code": BANK,
        "amount_fen": 30000,
        "merchant_name": "济宁市社会保险事业中心",
        "subject": "2026 年度城乡居民基本养老保险",
        "return_url": "http://platform.example/wallet/online-result",
        "notify_url": "http://127.0.0.1:9/api/v1/payments/online/notify",
        "issued_at": "2026-12-04T08:00:00+00:00",
        "signer": "370800-pay",
        **changes,
    }
    return {
        "req": signing.encode_request(message),
        "sig": key.sign(signing.canonical(message)).hex(),
    }


def _balance(bank: dict[str, Any]) -> int:
    body = {"bank_code": BANK, "card_number": "A00000001", "account": bank["account"]}
    return int(bank["client"].post("/accounts/balance", json=body).json()["balance_fen"])


def test_the_pay_page_shows_a_signed_order_and_refuses_a_forged_one(bank: dict[str, Any]) -> None:
    client = bank["client"]
    shown = client.get("/paypage", params=_request(bank["key"]))
    assert shown.status_code == 200 and "300.00" in shown.text and "确认支付" in shown.text
    forged = _request(primitives.SM2PrivateKey.generate())
    refused = client.get("/paypage", params=forged)
    assert refused.status_code == 400 and "签名无效" in refused.text
    tampered = _request(bank["key"])
    tampered["req"] = _request(bank["key"], amount_fen=1)["req"]
    assert client.get("/paypage", params=tampered).status_code == 400


def test_confirming_debits_the_account_once_and_signs_the_notice(bank: dict[str, Any]) -> None:
    client = bank["client"]
    form = {**_request(bank["key"]), "account": bank["account"], "password": "x"}
    first = client.post("/paypage/confirm", data=form, follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"].endswith("/wallet/online-result?order_no=P2026120412345678901")
    again = client.post("/paypage/confirm", data=form, follow_redirects=False)
    assert again.status_code == 303 and _balance(bank) == 20000
    record = client.get("/control/paypage/P2026120412345678901").json()
    assert record["amount_fen"] == 30000 and record["kind"] == "debit"
    books = client.app.state.bank_books  # type: ignore[attr-defined]
    listed = books.payments["P2026120412345678901"]
    assert (listed.kind, listed.amount_fen, listed.status) == ("debit", 30000, "done")
    bank_key = pem.load_public_key((bank["trust"] / "bank.pem").read_bytes())
    notice = record["notice"].encode()
    assert bank_key.verify(notice, bytes.fromhex(record["signature"]))
    parsed = signing.parse(notice, signing.NOTICE_FIELDS)
    assert parsed["status"] == "paid" and parsed["order_no"] == "P2026120412345678901"
    status = client.post(
        "/paypage/status", json={"bank_code": BANK, "order_no": parsed["order_no"]}
    )
    assert status.json()["status"] == "paid" and status.json()["notice"] == record["notice"]


def test_a_poor_or_unknown_account_is_refused_in_words(bank: dict[str, Any]) -> None:
    client = bank["client"]
    poor = {**_request(bank["key"], amount_fen=90000), "account": bank["account"], "password": "x"}
    assert "余额不足" in client.post("/paypage/confirm", data=poor).text
    unknown = {**_request(bank["key"]), "account": "6217000000000000000", "password": "x"}
    answer = client.post("/paypage/confirm", data=unknown)
    assert answer.status_code == 422 and "未启用" in answer.text
    assert _balance(bank) == 50000


def _refund(key: primitives.SM2PrivateKey, **changes: Any) -> dict[str, str]:
    message = {
        "order_no": "P2026120412345678901",
        "refund_no": "R1",
        "bank_code": BANK,
        "amount_fen": 10000,
        "issued_at": "2026-12-04T09:00:00+00:00",
        "signer": "370800-pay",
        **changes,
    }
    return {
        "req": signing.encode_request(message),
        "sig": key.sign(signing.canonical(message)).hex(),
    }


def test_a_refund_credits_back_once_and_never_more_than_was_paid(bank: dict[str, Any]) -> None:
    client, key = bank["client"], bank["key"]
    unknown = client.post("/paypage/refund", json=_refund(key)).json()
    assert unknown["status"] == "refused" and "没有该订单" in unknown["reason"]
    form = {**_request(key), "account": bank["account"], "password": "x"}
    client.post("/paypage/confirm", data=form, follow_redirects=False)
    assert _balance(bank) == 20000
    first = client.post("/paypage/refund", json=_refund(key, refund_no="R2")).json()
    assert first["status"] == "done" and first["bank_ref"].startswith("R")
    again = client.post("/paypage/refund", json=_refund(key, refund_no="R2")).json()
    assert again == first and _balance(bank) == 30000
    too_much = client.post("/paypage/refund", json=_refund(key, refund_no="R3", amount_fen=20001))
    assert too_much.json()["status"] == "refused" and "amount_fen" in too_much.json()["reason"]
    forged = {**_refund(key, refund_no="R4"), "sig": "00" * 64}
    assert "签名无效" in client.post("/paypage/refund", json=forged).json()["reason"]
    rest = client.post("/paypage/refund", json=_refund(key, refund_no="R5", amount_fen=20000))
    assert rest.json()["status"] == "done" and _balance(bank) == 50000
    query = {"bank_code": BANK, "order_no": "P2026120412345678901", "refund_no": "R5"}
    assert client.post("/paypage/status", json=query).json() == rest.json()
    never = client.post("/paypage/status", json={**query, "refund_no": "R9"}).json()
    assert never["status"] == "unknown"
    day = datetime.now(CHINA_TZ).strftime("%Y%m%d")
    listed = client.get("/payments/dailyfile", params={"bank_code": BANK, "day": day}).text
    assert "ref:R2" in listed and "ref:R5" in listed and "ref:R3" not in listed


def test_the_social_insurance_system_records_one_contribution_per_year() -> None:
    report = {
        "id_number": "370811199001011234",
        "year": 2026,
        "grade_fen": 30000,
        "amount_fen": 30000,
        "order_no": "P2026120400000000001",
        "paid_at": "2026-12-04T08:00:00+00:00",
        "region_code": "370800",
    }
    with TestClient(social_app()) as client:
        first = client.post("/contributions", json=report, headers={"Idempotency-Key": "c:1"})
        again = client.post("/contributions", json=report, headers={"Idempotency-Key": "c:1"})
        other = client.post("/contributions", json={**report, "order_no": "P2026120400000000002"})
        assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
        assert again.json()["replayed"] and "已缴费" in other.json()["detail"]
        found = client.post("/contributions/query", json={"id_number": report["id_number"]})
        assert [r["year"] for r in found.json()["items"]] == [2026]
        assert "id_number" not in found.json()["items"][0]
        assert client.get("/control/stats").json() == {"calls": 3, "records": 1}


def test_the_acquirer_keeps_codes_masked_and_the_last_line_wins(tmp_path: Path) -> None:
    records = Records(tmp_path)
    ref = records.new_ref()
    base = {"acquirer_ref": ref, "merchant": "M1", "amount_fen": 100}
    records.write({**base, "status": "paying", "code_masked": acquirer_app.mask_code("6" * 19)})
    records.write({**base, "status": "paid"})
    assert [r["status"] for r in records.all()] == ["paid"]
    assert acquirer_app.mask_code("6212345678901234567") == "621234*********4567"
    assert Records(tmp_path).new_ref() != ref
