"""The registry's HTTP API through a real server: masked reads, audited reveals, photos."""

from __future__ import annotations

import io
from collections.abc import Callable

import httpx
from PIL import Image
from sqlalchemy import Engine
from tests.support import Account, LiveServer, citizen_id, login, person_body

from sscard.registry.photos import portraits


def test_a_clerk_registers_a_person_who_is_then_shown_masked(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    token = login(live_server, make_account("clerk"))
    number = citizen_id()
    with live_server.client(token) as http:
        created = http.post("/api/v1/persons", json=person_body(number, name="王小明"))
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["masked"] is True and body["id_number"] == number[:6] + "********" + number[-4:]
        assert body["name"] == "王**"
        fetched = http.get(f"/api/v1/persons/{number}").json()
        assert fetched["id"] == body["id"] and fetched["phone"] == "138****0000"
        assert number not in http.get(f"/api/v1/persons/{number}").text


def test_a_reveal_needs_a_purpose_and_appears_in_the_audit_log(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    clerk = login(live_server, make_account("clerk"))
    auditor = login(live_server, make_account("auditor"))
    number = citizen_id()
    with live_server.client(clerk) as http:
        person_id = http.post("/api/v1/persons", json=person_body(number)).json()["id"]
        missing = http.post(f"/api/v1/persons/{number}/reveal", json={})
        assert missing.status_code == 422
        assert missing.json()["fields"] == [{"field": "purpose", "reason": "必填"}]
        shown = http.post(f"/api/v1/persons/{number}/reveal", json={"purpose": "补换卡核验"})
        assert shown.json()["id_number"] == number and shown.json()["masked"] is False
    with live_server.client(auditor) as http:
        entries = http.get(
            "/api/v1/audit/entries", params={"subject_id": person_id, "action": "person.reveal"}
        ).json()["items"]
        assert [e["purpose"] for e in entries] == ["补换卡核验"]
        assert number not in str(entries)


def test_bad_fields_are_named_and_nothing_is_written(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    token = login(live_server, make_account("clerk"))
    number = citizen_id()
    bad = person_body(number[:-1] + ("0" if number[-1] != "0" else "1"), phone="123")
    with live_server.client(token) as http:
        refused = http.post("/api/v1/persons", json=bad)
        assert refused.status_code == 422
        fields = {f["field"] for f in refused.json()["fields"]}
        assert {"id_number", "phone"} <= fields
        assert "校验位错误" in refused.json()["detail"]
        assert http.get(f"/api/v1/persons/{bad['id_number']}").status_code == 404
        unknown = http.post("/api/v1/persons", json={**person_body(citizen_id()), "colour": "red"})
        assert unknown.json()["fields"] == [{"field": "colour", "reason": "不允许的字段"}]


def test_a_person_outside_the_clerks_region_is_not_found(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    city = login(live_server, make_account("clerk"))
    admin = login(live_server, make_account("admin"))
    hall = f"HALL-{citizen_id()[-6:]}"
    with live_server.client(admin) as http:
        created = http.post(
            "/api/v1/institutions",
            json={
                "code": hall,
                "name": "兖州区社会保险服务大厅",
                "type": "service_hall",
                "region_code": "370812",
            },
        )
        assert created.status_code == 201, created.text
    district = login(live_server, make_account("clerk", institution=hall))
    number = citizen_id("370811")
    with live_server.client(city) as http:
        created = http.post("/api/v1/persons", json=person_body(number))
        assert created.status_code == 201
    with live_server.client(district) as http:
        response = http.get(f"/api/v1/persons/{number}")
        assert response.status_code == 404 and response.json()["error"] == "person_not_found"
    auditor = login(live_server, make_account("auditor"))
    with live_server.client(auditor) as http:
        entries = http.get(
            "/api/v1/audit/entries",
            params={"subject_id": created.json()["id"], "action": "person.read"},
        ).json()["items"]
    refused = [e for e in entries if e["outcome"] == "denied"]
    assert len(refused) == 1 and refused[0]["subject_display"] == created.json()["id_number"]
    assert number not in str(entries)


def _jpeg(width: int, height: int, *, exif: bool) -> bytes:
    image = Image.new("RGB", (width, height), (200, 180, 160))
    buffer = io.BytesIO()
    extra = {}
    if exif:
        data = Image.Exif()
        data[0x010F] = "PhoneMaker"
        extra["exif"] = data.tobytes()
    image.save(buffer, "JPEG", quality=95, **extra)
    return buffer.getvalue()


def test_a_photo_is_checked_stripped_of_exif_and_served_only_to_permitted_roles(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    clerk = login(live_server, make_account("clerk"))
    auditor = login(live_server, make_account("auditor"))
    number = citizen_id()
    portrait = portraits.demo_portrait(7)
    image = Image.open(io.BytesIO(portrait))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    with live_server.client(clerk) as http:
        http.post("/api/v1/persons", json=person_body(number))
        wrong = http.put(
            f"/api/v1/persons/{number}/photo",
            files={"photo": ("p.jpg", _jpeg(400, 500, exif=False), "image/jpeg")},
        )
        assert wrong.status_code == 422 and "358×441" in wrong.json()["detail"]
        put = http.put(
            f"/api/v1/persons/{number}/photo",
            files={"photo": ("p.jpg", buffer.getvalue(), "image/jpeg")},
        )
        assert put.status_code == 200, put.text
        served = http.get(f"/api/v1/persons/{number}/photo")
        assert served.headers["content-type"] == "image/jpeg"
        assert served.headers["cache-control"] == "no-store"
        assert "exif" not in Image.open(io.BytesIO(served.content)).info
        assert http.get(f"/api/v1/persons/{number}").json()["has_photo"] is True
    with live_server.client(auditor) as http:
        refused = http.get(f"/api/v1/persons/{number}/photo")
        assert refused.status_code == 403


def test_a_death_is_recorded_once(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    token = login(live_server, make_account("clerk"))
    number = citizen_id(born="19400101")
    with live_server.client(token) as http:
        http.post("/api/v1/persons", json=person_body(number))
        first = http.post(f"/api/v1/persons/{number}/death", json={"death_date": "2025-06-01"})
        assert first.status_code == 200 and first.json()["status"]["name"] == "死亡"
        second = http.post(f"/api/v1/persons/{number}/death", json={"death_date": "2025-06-01"})
        assert second.status_code == 409 and second.json()["error"] == "person_deceased"


def test_employers_and_communities_are_registered_with_checked_codes(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    token = login(live_server, make_account("clerk"))
    with live_server.client(token) as http:
        bad = http.post(
            "/api/v1/employers",
            json={"credit_code": "91370800MA3C00000X", "name": "测试单位", "region_code": "370811"},
        )
        assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "credit_code"
        community = http.post(
            "/api/v1/communities", json={"code": "370811002999", "name": "测试社区"}
        )
        assert community.status_code in (201, 409), community.text
        wrong_township = http.post(
            "/api/v1/communities", json={"code": "370811999001", "name": "不存在的街道"}
        )
        assert wrong_township.status_code == 422


def test_an_employers_contact_is_stored_sealed_and_shown_masked(
    live_server: LiveServer, make_account: Callable[..., Account], engine: Engine
) -> None:
    import random

    from sqlalchemy import text

    from sscard.registry.fakes import _credit_code

    code = _credit_code("91", "370811", random.randrange(10**6, 10**7))
    clerk = make_account("clerk")
    with live_server.client(login(live_server, clerk)) as http:
        created = http.post(
            "/api/v1/employers",
            json={
                "credit_code": code,
                "name": "济宁联系人测试公司",
                "region_code": "370811",
                "contact_name": "欧阳修文",
                "contact_phone": "13912345678",
            },
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert (body["contact_name"], body["contact_phone"]) == ("欧***", "139****5678")
        changed = http.patch(
            f"/api/v1/employers/{body['id']}", json={"contact_phone": "13700001111"}
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["contact_phone"] == "137****1111"
        assert changed.json()["contact_name"] == "欧***"
    with httpx.Client(base_url=live_server.url, timeout=30) as pages:
        pages.get("/login")
        form = {"username": clerk.username, "password": clerk.password}
        form["csrf_token"] = pages.cookies["sscard_csrf"]
        assert pages.post("/login", data=form).status_code in (200, 303)
        for path in (f"/registry/employers/{body['id']}", "/registry/employers?name=联系人测试"):
            page = pages.get(path)
            assert page.status_code == 200, page.text
            assert "欧***" in page.text and "137****1111" in page.text
            assert "欧阳修文" not in page.text and "13700001111" not in page.text
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT * FROM registry_employer WHERE credit_code = :c"), {"c": code}
        ).one()
    stored = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row._mapping.values())
    assert "欧阳修文".encode() not in stored and b"13700001111" not in stored
    assert "欧阳".encode() not in stored
