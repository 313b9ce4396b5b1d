"""The card counter end to end over real HTTP: a hall serves a card that sits at the hall
whoever holds it (handover and issue only), handover records name their places, and every
counter operation prints a receipt (柜面业务回执) as a PDF that reads back with pypdf."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO

import httpx
import pypdf
from tests.e2e.test_issuance_pages import SETUP, Person, active_card, csrf, pages_as, person
from tests.e2e.test_issuance_pages import place as card_place
from tests.integration.cards import _apply, _made
from tests.support import Account, LiveServer, citizen_id, login, person_body

from sscard import db
from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType
from sscard.iam.schemas import InstitutionCreate
from sscard.issuance.cards import handover_service, receipt_service
from sscard.issuance.cards import service as issuance_service
from sscard.issuance.cards.models import Handover
from sscard.issuance.cards.schemas import HandoverIn
from sscard.kit import context
from sscard.kit.masking import mask_card_number
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.schemas import PersonCreate
from sscard.registry.photos import portraits
from sscard.registry.photos import service as registry_photos


def hall(name: str, region: str = "370811") -> str:
    """A service hall of ``region`` named ``name``; its code."""
    code = f"HC{secrets.token_hex(3).upper()}"
    with db.transaction() as session, context.acting(SETUP):
        iam_service.create_institution(
            session,
            data=InstitutionCreate(
                code=code, name=name, type=InstitutionType.service_hall, region_code=region
            ),
        )
    return code


def holder_elsewhere() -> Person:
    """A registered person living in 兖州区 (370812), outside a 任城区 clerk's region."""
    number = citizen_id("370812")
    with db.transaction() as session, context.acting(SETUP):
        created = registry_service.create_person(
            session, data=PersonCreate.model_validate(person_body(number)), actor=SETUP
        )
        registry_photos.put_photo(
            session, id_number=number, data=portraits.demo_portrait(5), actor=SETUP
        )
        return Person(number, created.id)


@dataclass(frozen=True)
class Waiting:
    card_id: str
    card_number: str
    holder: Person


def card_waiting_at(place: str, holder: Person) -> Waiting:
    """A made card of ``holder`` handed over to ``place`` (arrived there for collection)."""
    with db.transaction() as session, context.acting(SETUP):
        card = _made(session, SETUP, _apply(session, SETUP, card_place().bank, holder.id_number))
        handover_service.handover(
            session,
            data=HandoverIn(
                card_number=card.card_number, to_place=place, handler="仓库", receiver="大厅"
            ),
            actor=SETUP,
        )
        return Waiting(card.id, card.card_number or "", holder)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(BytesIO(content)).pages)


def api_as(server: LiveServer, account: Account) -> httpx.Client:
    return server.client(login(server, account))


def test_a_clerk_issues_a_card_waiting_at_their_hall_to_a_holder_of_another_district(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    mine, other = hall("任城柜台测试大厅"), hall("另一测试大厅")
    here = card_waiting_at(mine, holder_elsewhere())
    elsewhere = card_waiting_at(other, holder_elsewhere())
    with api_as(live_server, make_account("clerk", institution=mine)) as api:
        found = api.get(f"/api/v1/cards/{here.card_number}")
        listed = api.get("/api/v1/cards", params={"id_number": here.holder.id_number})
        loss = api.post(f"/api/v1/cards/{here.card_number}/loss", json={"temporary": False})
        issued = api.post(
            "/api/v1/handovers",
            json={
                "card_number": here.card_number,
                "to_place": "holder",
                "handler": "柜员",
                "receiver": "持卡人本人",
            },
        )
        not_mine = api.get(f"/api/v1/cards/{elsewhere.card_number}")
        not_mine_moves = api.get(f"/api/v1/cards/{elsewhere.card_number}/handovers")
        not_mine_listed = api.get("/api/v1/cards", params={"id_number": elsewhere.holder.id_number})
        not_mine_moved = api.post(
            "/api/v1/handovers",
            json={
                "card_number": elsewhere.card_number,
                "to_place": "holder",
                "handler": "柜员",
                "receiver": "他人",
            },
        )
    assert found.status_code == 200, found.text
    assert [c["card_number"] for c in listed.json()] == [here.card_number]
    assert loss.status_code == 404, "a card at the hall is handed over and issued, nothing else"
    assert issued.status_code == 201, issued.text
    assert issued.json()["from_place_name"] == "任城柜台测试大厅"
    assert issued.json()["to_place_name"] == "持卡人"
    assert (not_mine.status_code, not_mine_moves.status_code) == (404, 404)
    assert not_mine_listed.status_code == 404 and elsewhere.card_number not in not_mine_listed.text
    assert not_mine_moved.status_code == 404
    with db.transaction() as session:
        assert issuance_service.card_by_id(session, card_id=here.card_id).status == "issued"
        assert issuance_service.card_by_id(session, card_id=elsewhere.card_id).status == (
            "at_distribution_point"
        )


def test_a_clerk_hands_a_card_at_their_hall_to_its_holder_on_the_pages_and_prints_the_receipt(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    mine, other = hall("页面测试大厅"), hall("页面另一大厅")
    here = card_waiting_at(mine, holder_elsewhere())
    elsewhere = card_waiting_at(other, holder_elsewhere())
    with pages_as(live_server, make_account("clerk", institution=mine)) as http:
        lookup = http.post(
            "/cards", data={"mode": "card", "card_ref": here.card_number, "csrf_token": csrf(http)}
        )
        card_page = http.get(f"/cards/c/{here.card_id}")
        issued = http.post(
            "/cards/handover",
            data={
                "card_id": here.card_id,
                "to_place": "holder",
                "handler": "柜员",
                "receiver": "持卡人本人",
                "csrf_token": csrf(http),
            },
        )
        after = http.get(issued.headers["location"])
        receipt_link = after.text.split('id="receipt-latest" href="')[1].split('"')[0]
        receipt = http.get(receipt_link)
        refused = http.post(
            "/cards",
            data={"mode": "card", "card_ref": elsewhere.card_number, "csrf_token": csrf(http)},
        )
        refused_page = http.get(f"/cards/c/{elsewhere.card_id}")
    assert lookup.status_code == 303 and lookup.headers["location"] == f"/cards/c/{here.card_id}"
    assert card_page.status_code == 200 and 'id="handover-link"' in card_page.text
    assert 'id="op-loss"' not in card_page.text and 'id="op-cancel"' not in card_page.text
    assert "未登记地点 → <b>页面测试大厅</b>" in card_page.text and "unknown" not in card_page.text
    assert issued.status_code == 303 and "交接已登记" in after.text
    assert receipt.status_code == 200
    assert receipt.headers["content-type"] == "application/pdf"
    assert 'filename="receipt-HZ' in receipt.headers["content-disposition"]
    text = pdf_text(receipt.content)
    assert "领卡（发放）" in text and "页面测试大厅" in text and "北京时间" in text
    assert mask_card_number(here.card_number) in text and here.card_number not in text
    assert refused.status_code == 404 and refused_page.status_code == 404
    assert "未找到该卡" in refused.text and elsewhere.card_number not in refused_page.text


def test_a_loss_report_prints_a_receipt_whose_digest_covers_its_lines(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    card = active_card()
    with api_as(live_server, make_account("clerk")) as api:
        lost = api.post(f"/api/v1/cards/{card.card_number}/loss", json={"note": "钱包遗失"})
        timeline = api.get(f"/api/v1/cards/{card.card_number}").json()["timeline"]
        event = next(e for e in timeline if e["action"] == "report_loss")
        answer = api.get(f"/api/v1/cards/{card.card_number}/receipts/{event['id']}")
        again = api.get(f"/api/v1/cards/{card.card_number}/receipts/{event['id']}")
        not_a_receipt = api.get(f"/api/v1/cards/{card.card_number}/receipts/{timeline[0]['id']}")
        other_card = active_card()
        foreign = api.get(f"/api/v1/cards/{other_card.card_number}/receipts/{event['id']}")
    assert lost.status_code == 200
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    text = pdf_text(answer.content)
    assert "正式挂失" in text and "钱包遗失" in text and card.card_number not in text
    with db.transaction() as session:
        found = receipt_service.receipt(
            session, card_ref=card.card_id, event_id=event["id"], actor=SETUP
        )
    printed = [
        found.receipt_no,
        found.operation,
        found.card_number,
        found.holder_name,
        found.holder_id_number,
        found.beijing_time,
        found.hall,
        found.clerk,
        found.note,
    ]
    assert found.digest == receipt_service.digest_of(printed)
    assert found.digest[:32] in text and found.digest[32:] in text
    assert receipt_service.digest_of([*printed[:-1], "改过的说明"]) != found.digest
    assert again.content == answer.content, "a receipt prints the same every time"
    assert not_a_receipt.status_code == 404 and not_a_receipt.json()["error"] == (
        "receipt_not_found"
    )
    assert foreign.status_code == 404


def test_a_move_of_a_card_with_no_recorded_place_reads_unrecorded_not_unknown(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    code = hall("登记测试大厅")
    with db.transaction() as session, context.acting(SETUP):
        card = _made(session, SETUP, _apply(session, SETUP, card_place().bank, person().id_number))
        card.location = None
        number = card.card_number
        session.add(
            Handover(
                card_id=card.id,
                from_place="unknown",
                to_place=code,
                handler="旧系统",
                receiver="大厅",
                handed_at=card.made_at,
                recorded_by="legacy",
            )
        )
    with api_as(live_server, make_account("clerk")) as api:
        moved = api.post(
            "/api/v1/handovers",
            json={"card_number": number, "to_place": code, "handler": "仓库", "receiver": "大厅"},
        )
        moves = api.get(f"/api/v1/cards/{number}/handovers").json()
    assert moved.status_code == 201, moved.text
    assert moved.json()["from_place_name"] == "未登记地点"
    assert [m["from_place_name"] for m in moves] == ["未登记地点", "未登记地点"]
    assert {m["to_place_name"] for m in moves} == {"登记测试大厅"}
    assert "unknown" not in str([m["from_place_name"] for m in moves])
