"""List exports over real HTTP (导出 CSV / 导出 Excel): a person's cards, a box's cards, a
card's handover records and the registry person search, each with its page's filters and
scope, masked as on screen; and forms that keep what was typed after a refusal."""

from __future__ import annotations

import csv
import secrets
from collections.abc import Callable
from io import BytesIO, StringIO

from openpyxl import load_workbook
from tests.e2e.test_counter_cards import card_waiting_at, hall, holder_elsewhere
from tests.e2e.test_issuance_pages import (
    SETUP,
    active_card,
    boxed_cards,
    csrf,
    pages_as,
    place,
)
from tests.support import Account, LiveServer, citizen_id, person_body

from sscard import db
from sscard.issuance.cards import handover_service
from sscard.issuance.cards.schemas import HandoverIn
from sscard.kit import context
from sscard.kit.masking import mask_name
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.schemas import PersonCreate


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode()), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(StringIO(content.decode("utf-8-sig"))))


def xlsx_rows(content: bytes) -> list[list[str]]:
    """The sheet's rows as text (an empty cell reads back as None)."""
    book = load_workbook(BytesIO(content), read_only=True)
    rows = book.worksheets[0].iter_rows(values_only=True)
    return [["" if v is None else str(v) for v in r] for r in rows]


def test_a_persons_cards_export_as_csv_and_excel_masked_as_on_screen(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    card = active_card()
    with pages_as(live_server, make_account("clerk")) as http:
        shown = http.post(
            "/cards",
            data={"mode": "person", "id_number": card.person.id_number, "csrf_token": csrf(http)},
        )
        asked = {"person_id": card.person.person_id, "csrf_token": csrf(http)}
        as_csv = http.post("/cards/export", data={**asked, "format": "csv"})
        as_xlsx = http.post("/cards/export", data={**asked, "format": "xlsx"})
        wrong = http.post("/cards/export", data={**asked, "format": "pdf"})
        empty = http.post("/cards/export", data={"csrf_token": csrf(http), "format": "csv"})
    assert 'id="export-cards-csv"' in shown.text and 'id="export-cards-xlsx"' in shown.text
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = csv_rows(as_csv.content)
    assert rows[0][:4] == ["卡号", "持卡人", "证件号码", "状态"]
    assert [r[0] for r in rows[1:]] == [card.card_number]
    assert rows[1][3] == "正常" and "*" in rows[1][2]
    assert card.person.id_number not in as_csv.content.decode("utf-8-sig")
    assert xlsx_rows(as_xlsx.content) == rows
    assert wrong.status_code == 422 and "导出格式应为 CSV 或 Excel" in wrong.text
    assert empty.status_code == 422 and "请先按证件号码查询" in empty.text
    assert card.person.id_number not in shown.text


def test_a_clerk_cannot_export_the_cards_of_a_holder_outside_their_scope(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    elsewhere = card_waiting_at(hall("导出另一大厅"), holder_elsewhere())
    district_clerk = make_account("clerk", institution=hall("导出本区大厅"))
    with pages_as(live_server, district_clerk) as http:
        refused = http.post(
            "/cards/export",
            data={
                "person_id": elsewhere.holder.person_id,
                "csrf_token": csrf(http),
                "format": "csv",
            },
        )
    assert refused.status_code == 404 and "text/html" in refused.headers["content-type"]
    assert elsewhere.card_number not in refused.text


def test_a_boxs_cards_and_a_cards_handover_records_export_with_place_names(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    code, cards = boxed_cards(2)
    with db.transaction() as session, context.acting(SETUP):
        handover_service.handover(
            session,
            data=HandoverIn(box_code=code, to_place=place().hall, handler="卡商", receiver="柜员"),
            actor=SETUP,
        )
    with pages_as(live_server, make_account("clerk")) as http:
        page = http.get("/cards/handover", params={"box": code})
        box_xlsx = http.get("/cards/handover/export", params={"code": code, "format": "xlsx"})
        moves_csv = http.get(f"/cards/c/{cards[0].card_id}/handovers/export?format=csv")
        card_page = http.get(f"/cards/c/{cards[0].card_id}")
    assert 'id="export-cards-xlsx"' in page.text and 'id="export-moves-csv"' in card_page.text
    rows = xlsx_rows(box_xlsx.content)
    assert [r[0] for r in rows[1:]] == [c.card_number for c in cards]
    assert {r[9] for r in rows[1:]} == {"测试服务大厅"}
    moves = csv_rows(moves_csv.content)
    assert moves[0][3:5] == ["原位置", "新位置"]
    with db.transaction() as session:
        vendor = handover_service.place_name(handover_service.place_names(session), "VENDOR-HD")
    assert moves[1][2:5] == [code, vendor, "测试服务大厅"]


def test_the_registry_search_results_export_with_the_same_criteria_and_masking(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    name = "导出" + "".join(secrets.choice("甲乙丙丁戊己庚辛壬癸") for _ in range(3))
    number = citizen_id("370811")
    with db.transaction() as session, context.acting(SETUP):
        registry_service.create_person(
            session, data=PersonCreate.model_validate(person_body(number, name=name)), actor=SETUP
        )
    born = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    criteria = {"mode": "name", "name": name, "birth_date": born}
    with pages_as(live_server, make_account("clerk")) as http:
        shown = http.post("/registry/persons", data={**criteria, "csrf_token": csrf(http)})
        as_csv = http.post(
            "/registry/persons/export", data={**criteria, "csrf_token": csrf(http), "format": "csv"}
        )
        unsearched = http.post(
            "/registry/persons/export", data={"csrf_token": csrf(http), "format": "csv"}
        )
    assert 'id="export-persons-csv"' in shown.text
    rows = csv_rows(as_csv.content)
    assert rows[0][:2] == ["证件号码", "姓名"]
    assert [r[1] for r in rows[1:]] == [mask_name(name)]
    assert number not in as_csv.content.decode("utf-8-sig") and name not in rows[1]
    assert unsearched.status_code == 422 and "请先查询" in unsearched.text


def test_the_lookup_and_the_pin_reset_forms_keep_what_was_typed_but_never_a_pin(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    card, unknown = active_card(), citizen_id("370811")
    with pages_as(live_server, make_account("clerk")) as http:
        lookup = http.post(
            "/cards", data={"mode": "person", "id_number": unknown, "csrf_token": csrf(http)}
        )
        confirm = http.get(f"/cards/c/{card.card_id}/pin-reset")
        version = confirm.text.split('name="version" value="')[1].split('"')[0]
        reset = http.post(
            f"/cards/c/{card.card_id}/pin-reset",
            data={
                "version": version,
                "id_number": card.person.id_number,
                "new_pin": "802417",
                "new_pin_confirm": "802418",
                "note": "本人办理",
                "csrf_token": csrf(http),
            },
        )
    assert lookup.status_code == 404 and f'value="{unknown}"' in lookup.text
    assert reset.status_code == 422 and "两次输入的新密码不一致" in reset.text
    assert f'value="{card.person.id_number}"' in reset.text
    assert "802417" not in reset.text and "802418" not in reset.text
