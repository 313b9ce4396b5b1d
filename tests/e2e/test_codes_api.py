"""Code sets and translation tables through a real server process: reading, translating,
maintaining, and CSV files up and down. Writes go to sets and systems of the test's own."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, delete
from tests.support import LiveServer, login

from sscard.exchange.translation.models import Code, CodeSet, ExternalField, ExternalSystem, Mapping


def _error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail", "fields"} and body["error"] == code
    return dict(body)


@pytest.fixture
def prefix(engine: Engine) -> Iterator[str]:
    """A key prefix for sets and systems a test creates; they are removed afterwards."""
    value = f"t{secrets.token_hex(4)}_"
    yield value
    with engine.begin() as connection:
        connection.execute(delete(Mapping).where(Mapping.system_key.startswith(value)))
        connection.execute(delete(Mapping).where(Mapping.code_set_key.startswith(value)))
        connection.execute(delete(ExternalField).where(ExternalField.system_key.startswith(value)))
        connection.execute(
            delete(ExternalField).where(ExternalField.code_set_key.startswith(value))
        )
        connection.execute(delete(ExternalSystem).where(ExternalSystem.key.startswith(value)))
        connection.execute(delete(Code).where(Code.code_set_key.startswith(value)))
        connection.execute(delete(CodeSet).where(CodeSet.key.startswith(value)))


@pytest.fixture(scope="module")
def admin(live_server: LiveServer, make_account) -> str:
    return login(live_server, make_account("admin"))


@pytest.fixture(scope="module")
def clerk(live_server: LiveServer, make_account) -> str:
    return login(live_server, make_account("clerk"))


def test_a_clerk_reads_the_sets_and_tables_and_translates_both_ways(
    live_server: LiveServer, clerk: str
) -> None:
    with live_server.client(clerk) as http:
        sets = {s["key"]: s for s in http.get("/api/v1/code-sets").json()}
        assert sets["gender"] == {"key": "gender", "name": "性别", "size": 4}
        gender = http.get("/api/v1/code-sets/gender").json()
        assert gender["codes"][1] == {"code": "1", "name": "男"}
        systems = {s["key"]: s for s in http.get("/api/v1/systems").json()}
        assert {
            "code_set": "gender",
            "code_set_name": "性别",
            "external_field": "SEX",
            "mappings": 3,
        } in systems["medical_insurance"]["tables"]
        rows = http.get(
            "/api/v1/systems/medical_insurance/mappings", params={"code_set": "gender"}
        ).json()
        assert {(r["code"], r["external_code"]) for r in rows} == {
            ("1", "M"),
            ("2", "F"),
            ("0", "U"),
        }
        out = http.get(
            "/api/v1/translate",
            params={"system": "province", "code_set": "gender", "value": "2"},
        ).json()
        assert (out["external_field"], out["result"]) == ("AAC004", "2")
        back = http.get(
            "/api/v1/translate",
            params={
                "system": "medical_insurance",
                "code_set": "gender",
                "value": "M",
                "direction": "in",
            },
        ).json()
        assert back["result"] == "1"


def test_unmapped_values_and_unknown_names_get_the_one_error_body(
    live_server: LiveServer, clerk: str
) -> None:
    def translate(**params: str) -> httpx.Response:
        with live_server.client(clerk) as http:
            return http.get("/api/v1/translate", params=params)

    body = _error(
        translate(system="medical_insurance", code_set="gender", value="9"), 422, "code_unmapped"
    )
    assert body["detail"] == "医保系统的“性别”没有与本系统代码 9 对应的代码"
    _error(translate(system="bank", code_set="gender", value="1"), 404, "system_not_found")
    _error(translate(system="province", code_set="colour", value="1"), 404, "code_set_not_found")
    _error(
        translate(system="province", code_set="gender", value="1", direction="sideways"),
        422,
        "validation_failed",
    )


def test_a_clerk_may_read_but_not_change_anything(live_server: LiveServer, clerk: str) -> None:
    with live_server.client(clerk) as http:
        denied = http.put("/api/v1/code-sets/gender/codes/1", json={"name": "男性"})
        assert "codes.manage" in str(_error(denied, 403, "permission_denied")["detail"])
        _error(
            http.put(
                "/api/v1/systems/medical_insurance/mappings/gender/9", json={"external_code": "N"}
            ),
            403,
            "permission_denied",
        )
        _error(
            http.delete("/api/v1/systems/medical_insurance/mappings/gender/1"),
            403,
            "permission_denied",
        )
        files = {"file": ("sets.csv", b"code_set,code,name\ngender,1,x\n", "text/csv")}
        _error(http.post("/api/v1/code-sets/import", files=files), 403, "permission_denied")
        assert http.get("/api/v1/code-sets/gender").json()["codes"][1]["name"] == "男"


def test_an_administrator_maintains_a_set_and_a_systems_table(
    live_server: LiveServer, admin: str, prefix: str
) -> None:
    card_status, bank = f"{prefix}card_status", f"{prefix}bank"
    with live_server.client(admin) as http:
        made = http.put(f"/api/v1/code-sets/{card_status}", json={"name": "卡状态"})
        assert made.json() == {"key": card_status, "name": "卡状态", "size": 0}
        for code, name in (("1", "正常"), ("2", "挂失"), ("3", "注销")):
            assert http.put(
                f"/api/v1/code-sets/{card_status}/codes/{code}", json={"name": name}
            ).json() == {"code": code, "name": name}
        assert http.put(f"/api/v1/systems/{bank}", json={"name": "合作银行"}).status_code == 200
        first = http.put(
            f"/api/v1/systems/{bank}/mappings/{card_status}/1",
            json={"external_code": "A", "external_field": "CARD_STAT"},
        )
        assert first.json()["external_field"] == "CARD_STAT", first.text
        assert (
            http.put(
                f"/api/v1/systems/{bank}/mappings/{card_status}/2", json={"external_code": "L"}
            ).json()["name"]
            == "挂失"
        )
        clash = http.put(
            f"/api/v1/systems/{bank}/mappings/{card_status}/3", json={"external_code": "A"}
        )
        assert "已对应本系统代码 1" in str(_error(clash, 409, "mapping_conflict")["detail"])
        extra = http.put(
            f"/api/v1/systems/{bank}/mappings/{card_status}/3",
            json={"external_code": "C", "colour": "red"},
        )
        assert _error(extra, 422, "validation_failed")["fields"] == [
            {"field": "colour", "reason": "不允许的字段"}
        ]
        params = {"system": bank, "code_set": card_status, "value": "L", "direction": "in"}
        assert http.get("/api/v1/translate", params=params).json()["result"] == "2"
        gone = http.delete(f"/api/v1/systems/{bank}/mappings/{card_status}/2")
        assert gone.status_code == 204
        _error(http.get("/api/v1/translate", params=params), 422, "code_unmapped")


def test_csv_files_go_up_and_down_and_a_bad_upload_changes_nothing(
    live_server: LiveServer, admin: str, prefix: str
) -> None:
    card_status = f"{prefix}card_status"
    sets = (
        f"code_set,code,name,code_set_name\r\n{card_status},1,正常,卡状态\r\n"
        f"{card_status},2,挂失,卡状态\r\n"
    ).encode("gb18030")
    with live_server.client(admin) as http:
        exported = http.get("/api/v1/code-sets/export.csv")
        assert exported.headers["content-type"].startswith("text/csv")
        assert exported.content.startswith(b"\xef\xbb\xbfcode_set,code,name")
        upload = {"file": ("sets.csv", sets, "text/csv")}
        report = http.post("/api/v1/code-sets/import", files=upload).json()
        assert (report["created"], report["notes"]) == (2, [f"新建代码集 {card_status}（卡状态）"])
        again = http.post("/api/v1/code-sets/import", files=upload).json()
        assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)

        tables = (
            f"system,code_set,external_field,code,external_code,system_name\r\n"
            f"{prefix}ps,{card_status},KZT,1,Z,公安系统\r\n{prefix}ps,{card_status},KZT,2,Z,公安系统\r\n"
        ).encode()
        bad = http.post("/api/v1/mappings/import", files={"file": ("m.csv", tables, "text/csv")})
        body = _error(bad, 422, "import_rejected")
        assert [f["field"] for f in body["fields"]] == [
            "line 2.external_code",
            "line 3.external_code",
        ]
        systems = http.get("/api/v1/systems").json()
        assert not any(s["key"].startswith(prefix) for s in systems)
        good = tables.replace(b"2,Z", b"2,G")
        made = http.post("/api/v1/mappings/import", files={"file": ("m.csv", good, "text/csv")})
        assert made.json()["created"] == 2, made.text
        down = http.get("/api/v1/mappings/export.csv", params={"system": f"{prefix}ps"})
        assert down.content.decode("utf-8-sig").splitlines()[1:] == [
            f"{prefix}ps,{card_status},KZT,1,Z,公安系统",
            f"{prefix}ps,{card_status},KZT,2,G,公安系统",
        ]
        junk = http.post(
            "/api/v1/code-sets/import",
            files={"file": ("x.png", b"\x89PNG\r\n\x1a\n\x00", "image/png")},
        )
        _error(junk, 422, "file_unreadable")
        _error(http.post("/api/v1/mappings/import"), 422, "validation_failed")
