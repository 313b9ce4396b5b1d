"""The card issuance pages over HTTP: logins, CSRF, permissions, the application's refusals
next to their fields, confirmations on a card that changed meanwhile, restore outside the
window, PIN reset, replacement, batches and failures, handover.

Cards are set up through the services in committed transactions (the live server shares
the test database): a bank, a number range, persons with photos, cards applied, made,
boxed, issued and activated.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import httpx
from tests.integration.cards import _active, _apply, _made
from tests.integration.conftest import PERMISSIONS
from tests.support import Account, LiveServer, citizen_id, person_body

from sscard import db
from sscard.db import utcnow
from sscard.errors import ValidationFailed
from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType
from sscard.iam.schemas import InstitutionCreate
from sscard.issuance.batches.models import Batch, Failure
from sscard.issuance.cards import number_service
from sscard.issuance.cards import service as issuance_service
from sscard.issuance.cards.models import Box
from sscard.issuance.cards.schemas import RangeIn
from sscard.issuance.lifecycle import Action
from sscard.kit import context
from sscard.kit.context import Actor, ActorKind
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.schemas import PersonCreate
from sscard.registry.photos import portraits
from sscard.registry.photos import service as registry_photos

SETUP = Actor(
    kind=ActorKind.operator,
    id="card-page-setup",
    name="卡管准备",
    institution_code="PLATFORM",
    institution_type="hrss_bureau",
    region_code="370800",
    permissions=PERMISSIONS,
)
BANK_NAME = "测试卡管合作银行"


# ---- data set up through the services (committed: the server shares the database) ----


@dataclass(frozen=True)
class Place:
    bank: str
    hall: str


@cache
def _place(database: str) -> Place:
    """A cooperating bank, a service hall and a number range (once per database)."""
    suffix = secrets.token_hex(3).upper()
    with db.transaction() as session, context.acting(SETUP):
        for code, name, kind in (
            (f"BI{suffix}", BANK_NAME, InstitutionType.bank),
            (f"HI{suffix}", "测试服务大厅", InstitutionType.service_hall),
        ):
            iam_service.create_institution(
                session,
                data=InstitutionCreate(code=code, name=name, type=kind, region_code="370800"),
            )
    for _ in range(20):
        prefix = "I" + secrets.token_hex(1).upper()
        try:
            with db.transaction() as session:
                number_service.add_range(
                    session, data=RangeIn(region_code="370800", prefix=prefix, start=1, end=5000)
                )
            break
        except ValidationFailed:
            continue
    return Place(f"BI{suffix}", f"HI{suffix}")


def place() -> Place:
    return _place(str(db.get_engine().url))


@dataclass(frozen=True)
class Person:
    id_number: str
    person_id: str


def person(*, photo: bool = True, deceased: bool = False) -> Person:
    """A registered person of the city (with a card photo unless ``photo`` is False)."""
    number = citizen_id("370811")
    with db.transaction() as session, context.acting(SETUP):
        created = registry_service.create_person(
            session, data=PersonCreate.model_validate(person_body(number)), actor=SETUP
        )
        if photo:
            registry_photos.put_photo(
                session, id_number=number, data=portraits.demo_portrait(5), actor=SETUP
            )
        if deceased:
            registry_service.mark_deceased(
                session, id_number=number, death_date=date.today(), source="counter", actor=SETUP
            )
        return Person(number, created.id)


@dataclass(frozen=True)
class CardRef:
    card_id: str
    card_number: str
    person: Person


def active_card() -> CardRef:
    """A person with an active card."""
    bank, holder = place().bank, person()
    with db.transaction() as session, context.acting(SETUP):
        card = _active(session, SETUP, bank, holder.id_number)
        return CardRef(card.id, card.card_number or "", holder)


def boxed_cards(count: int) -> tuple[str, list[CardRef]]:
    """``count`` made cards packed in one box at the vendor; the box code and the cards."""
    code = f"HD01TEST{secrets.token_hex(5).upper()}"
    bank, holders = place().bank, [person() for _ in range(count)]
    made: list[CardRef] = []
    with db.transaction() as session, context.acting(SETUP):
        session.add(
            Box(
                code=code,
                vendor_code="HD01",
                card_count=count,
                location="VENDOR-HD",
                updated_at=utcnow(),
            )
        )
        session.flush()
        for position, holder in enumerate(holders, 1):
            card = _made(session, SETUP, _apply(session, SETUP, bank, holder.id_number))
            card.box_code, card.box_position, card.location = code, position, "VENDOR-HD"
            made.append(CardRef(card.id, card.card_number or "", holder))
    return code, made


def batch_with_a_failure() -> tuple[str, CardRef, int]:
    """A batch of two cards: one made, one failed at the bank (an open failure)."""
    batch_no = f"B{secrets.token_hex(6).upper()}"
    bank, first, holder = place().bank, person(), person()
    with db.transaction() as session, context.acting(SETUP):
        batch = Batch(
            batch_no=batch_no,
            region_code="370800",
            status="result_imported",
            card_count=2,
            made_count=1,
            failed_count=1,
            rejected_count=0,
            result_rows=2,
            result_next_line=2,
            created_by=SETUP.id,
            created_at=utcnow(),
        )
        session.add(batch)
        session.flush()
        good = _made(session, SETUP, _apply(session, SETUP, bank, first.id_number))
        bad = _apply(session, SETUP, bank, holder.id_number)
        number_service.assign_number(session, card=bad, actor=SETUP)
        issuance_service.transition(session, card=bad, action=Action.submit, actor=SETUP)
        issuance_service.transition(session, card=bad, action=Action.fail, actor=SETUP)
        good.batch_id = bad.batch_id = batch.id
        failure = Failure(
            card_id=bad.id,
            batch_id=batch.id,
            stage="bank",
            reason="银行开户失败：证件信息不符",
            status="open",
            created_at=utcnow(),
        )
        session.add(failure)
        session.flush()
        return batch_no, CardRef(bad.id, bad.card_number or "", holder), failure.id


def card_status(card_id: str) -> str:
    with db.transaction() as session:
        return issuance_service.card_by_id(session, card_id=card_id).status


# ---- a browser-like client -------------------------------------------------------------


@contextmanager
def pages_as(server: LiveServer, account: Account) -> Iterator[httpx.Client]:
    """A client logged in through the login form (session and CSRF cookies)."""
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as http:
        http.get("/login")
        answer = http.post(
            "/login",
            data={
                "username": account.username,
                "password": account.password,
                "csrf_token": http.cookies["sscard_csrf"],
            },
        )
        assert answer.status_code == 303, answer.text
        yield http


def csrf(http: httpx.Client) -> str:
    return str(http.cookies["sscard_csrf"])


def version_of(page: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', page)
    assert found, "the confirmation form carries the card's version"
    return found.group(1)


# ---- tests -----------------------------------------------------------------------------


def test_card_pages_send_a_visitor_who_is_not_logged_in_to_the_login_page(
    live_server: LiveServer,
) -> None:
    with httpx.Client(base_url=live_server.url, follow_redirects=False) as http:
        for path in (
            "/cards",
            "/cards/apply",
            "/cards/c/01ABCDEFGHJKMNPQRSTVWXYZ00",
            "/cards/c/01ABCDEFGHJKMNPQRSTVWXYZ00/loss",
            "/cards/batches",
            "/cards/failures",
            "/cards/handover",
            "/cards/stats",
            "/cards/guide",
        ):
            answer = http.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"] == f"/login?next={path}"
        posted = http.post("/cards/apply", data={"id_number": citizen_id()})
        assert posted.status_code == 303 and posted.headers["location"].startswith("/login")


def test_a_form_posted_without_its_csrf_token_is_refused_and_nothing_changes(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    card = active_card()
    applicant = person()
    with pages_as(live_server, make_account("clerk")) as http:
        page = http.get(f"/cards/c/{card.card_id}/loss")
        assert page.status_code == 200
        loss = http.post(
            f"/cards/c/{card.card_id}/loss", data={"version": version_of(page.text), "note": ""}
        )
        forged = http.post(
            f"/cards/apply/p/{applicant.person_id}",
            data={"bank_code": place().bank, "csrf_token": "forged"},
        )
    for answer in (loss, forged):
        assert answer.status_code == 403
        assert answer.headers["content-type"].startswith("text/html")
        assert "页面已过期，请刷新后重试" in answer.text
    assert card_status(card.card_id) == "active"
    with db.transaction() as session:
        assert issuance_service.live_card(session, person_id=applicant.person_id) is None


def test_an_auditor_cannot_apply_for_a_card_and_is_shown_why(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    applicant = person()
    with pages_as(live_server, make_account("auditor")) as http:
        start = http.get("/cards/apply")
        posted = http.post(
            f"/cards/apply/p/{applicant.person_id}",
            data={"bank_code": place().bank, "csrf_token": csrf(http)},
        )
        lookup = http.get("/cards")
        guide = http.get("/cards/guide")
    for answer in (start, posted):
        assert answer.status_code == 403
        assert 'id="refusal"' in answer.text
        assert "受理制卡申请与补换卡" in answer.text
        assert answer.headers["cache-control"] == "no-store"
    assert lookup.status_code == 403 and "查询卡片、制卡进度与交接记录" in lookup.text
    assert guide.status_code == 200 and "批量制卡" in guide.text
    with db.transaction() as session:
        assert issuance_service.live_card(session, person_id=applicant.person_id) is None


def test_an_application_is_refused_next_to_the_field_that_is_wrong(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    no_photo, dead, holder = person(photo=False), person(deceased=True), active_card()
    with pages_as(live_server, make_account("clerk")) as http:
        found = http.post(
            "/cards/apply", data={"id_number": no_photo.id_number, "csrf_token": csrf(http)}
        )
        assert found.status_code == 303
        assert found.headers["location"] == f"/cards/apply/p/{no_photo.person_id}"
        assert no_photo.id_number not in found.headers["location"]
        form = http.get(found.headers["location"])
        assert BANK_NAME in form.text and form.headers["cache-control"] == "no-store"
        assert no_photo.id_number not in form.text

        def apply(who: Person) -> httpx.Response:
            return http.post(
                f"/cards/apply/p/{who.person_id}",
                data={
                    "source": "counter",
                    "mode": "batch",
                    "generation": "3",
                    "bank_code": place().bank,
                    "csrf_token": csrf(http),
                },
            )

        photo = apply(no_photo)
        deceased = apply(dead)
        twice = apply(holder.person)
        unknown = http.post(
            "/cards/apply", data={"id_number": citizen_id(), "csrf_token": csrf(http)}
        )
    assert photo.status_code == 422
    assert re.search(r'id="field-photo"[^>]*invalid', photo.text)
    assert re.search(r'id="form-alert">\s*申请人尚无合格照片，请先采集照片', photo.text)
    assert deceased.status_code == 422
    assert re.search(r'id="field-id_number"[^>]*invalid', deceased.text)
    assert re.search(r'id="form-alert">\s*申请人已登记死亡或迁出', deceased.text)
    assert twice.status_code == 409
    assert f'href="/cards/c/{holder.card_id}/replace"' in twice.text
    assert "申请人已有一张有效的社会保障卡" in twice.text
    assert unknown.status_code == 404 and "field-error" in unknown.text
    with db.transaction() as session:
        for who in (no_photo, dead):
            assert issuance_service.live_card(session, person_id=who.person_id) is None


def test_a_confirmation_for_a_card_that_changed_meanwhile_is_refused_with_409(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    card = active_card()
    with pages_as(live_server, make_account("clerk")) as http:
        page = http.get(f"/cards/c/{card.card_id}/loss")
        assert "正式挂失后该卡及电子社保卡将暂停使用" in page.text
        seen = version_of(page.text)
        with db.transaction() as session, context.acting(SETUP):
            issuance_service.report_loss(
                session, card_ref=card.card_id, temporary=True, actor=SETUP
            )
        stale = http.post(
            f"/cards/c/{card.card_id}/loss",
            data={"version": seen, "note": "", "csrf_token": csrf(http)},
        )
        assert stale.status_code == 409
        assert "该卡正在被其他操作处理，请刷新后重试" in stale.text
        assert card_status(card.card_id) == "temporarily_lost"

        again = http.get(f"/cards/c/{card.card_id}/loss")
        done = http.post(
            f"/cards/c/{card.card_id}/loss",
            data={
                "version": version_of(again.text),
                "note": "本人到柜台",
                "csrf_token": csrf(http),
            },
        )
        assert done.status_code == 303 and done.headers["location"] == f"/cards/c/{card.card_id}"
        shown = http.get(done.headers["location"])
    assert card_status(card.card_id) == "lost"
    assert "已正式挂失" in shown.text
    assert "本人到柜台" in shown.text


def test_a_restore_outside_the_window_is_refused_plainly(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    card = active_card()
    with db.transaction() as session, context.acting(SETUP):
        issuance_service.cancel(
            session, card_ref=card.card_id, reason="持卡人申请注销", actor=SETUP
        )
        found = issuance_service.card_by_id(session, card_id=card.card_id)
        found.cancelled_at = utcnow() - timedelta(days=45)
    with pages_as(live_server, make_account("clerk")) as http:
        page = http.get(f"/cards/c/{card.card_id}/restore")
        assert "正常" in page.text  # the status it would go back to
        answer = http.post(
            f"/cards/c/{card.card_id}/restore",
            data={"version": version_of(page.text), "csrf_token": csrf(http)},
        )
    assert answer.status_code == 409
    assert "注销已超过 30 天，不能还原" in answer.text
    assert card_status(card.card_id) == "cancelled"


def test_a_pin_is_reset_only_with_the_holders_id_number(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    card = active_card()
    with pages_as(live_server, make_account("clerk")) as http:
        page = http.get(f"/cards/c/{card.card_id}/pin-reset")
        version = version_of(page.text)
        form = {"version": version, "new_pin": "730518", "new_pin_confirm": "730518"}
        wrong = http.post(
            f"/cards/c/{card.card_id}/pin-reset",
            data={**form, "id_number": citizen_id(), "csrf_token": csrf(http)},
        )
        mismatch = http.post(
            f"/cards/c/{card.card_id}/pin-reset",
            data={
                **form,
                "new_pin_confirm": "730519",
                "id_number": card.person.id_number,
                "csrf_token": csrf(http),
            },
        )
        right = http.post(
            f"/cards/c/{card.card_id}/pin-reset",
            data={**form, "id_number": card.person.id_number, "csrf_token": csrf(http)},
        )
    assert wrong.status_code == 422 and "证件号码与持卡人不符" in wrong.text
    assert "730518" not in wrong.text
    assert mismatch.status_code == 422 and "两次输入的新密码不一致" in mismatch.text
    assert right.status_code == 303
    with db.transaction() as session:
        found = issuance_service.card_by_id(session, card_id=card.card_id)
        issuance_service.verify_pin(session, card=found, pin="730518")


def test_a_replacement_cancels_the_old_card_and_opens_the_new_one(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    card = active_card()
    with pages_as(live_server, make_account("clerk")) as http:
        page = http.get(f"/cards/c/{card.card_id}/replace")
        assert "原卡立即注销" in page.text
        missing = http.post(
            f"/cards/c/{card.card_id}/replace",
            data={"version": version_of(page.text), "reason": "", "csrf_token": csrf(http)},
        )
        done = http.post(
            f"/cards/c/{card.card_id}/replace",
            data={
                "version": version_of(page.text),
                "reason": "damaged",
                "mode": "batch",
                "bank_code": "",
                "pickup_place": place().hall,
                "csrf_token": csrf(http),
            },
        )
        assert missing.status_code == 422 and "请选择补换原因" in missing.text
        assert done.status_code == 303
        new_id = done.headers["location"].rsplit("/", 1)[1]
        shown = http.get(done.headers["location"])
    assert new_id != card.card_id
    assert card_status(card.card_id) == "cancelled"
    assert card_status(new_id) == "applied"
    assert "已受理补换卡申请，原卡已注销" in shown.text
    assert f'href="/cards/c/{card.card_id}"' in shown.text
    assert "测试服务大厅" in shown.text


def test_a_batch_shows_its_progress_and_a_failure_is_resubmitted(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    batch_no, failed, failure_id = batch_with_a_failure()
    with pages_as(live_server, make_account("card_manager")) as http:
        listing = http.get("/cards/batches")
        open_failures = http.get("/cards/failures")
        page = http.get(f"/cards/batches/{batch_no}")
        short = http.post(
            f"/cards/failures/{failure_id}/resubmit",
            data={"note": "x", "batch_no": batch_no, "confirmed": "yes", "csrf_token": csrf(http)},
        )
        done = http.post(
            f"/cards/failures/{failure_id}/resubmit",
            data={
                "note": "已核对证件信息",
                "batch_no": batch_no,
                "confirmed": "yes",
                "csrf_token": csrf(http),
            },
        )
        after = http.get(done.headers["location"])
    assert batch_no in listing.text
    assert f'id="failure-{failure_id}"' in open_failures.text
    assert 'data-status="made"' in page.text and 'data-status="failed"' in page.text
    assert "银行开户失败：证件信息不符" in page.text
    assert failed.person.id_number not in page.text
    assert short.status_code == 422 and "请填写处理说明" in short.text
    assert done.status_code == 303 and done.headers["location"] == f"/cards/batches/{batch_no}"
    assert "已重新报送" in after.text
    assert card_status(failed.card_id) == "applied"


def test_a_clerk_without_the_batch_permission_cannot_handle_failures(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    _batch_no, failed, failure_id = batch_with_a_failure()
    with pages_as(live_server, make_account("clerk")) as http:
        answer = http.post(
            f"/cards/failures/{failure_id}/resolve",
            data={"note": "已处理", "csrf_token": csrf(http)},
        )
        stats = http.get("/cards/stats")
    assert answer.status_code == 403 and "处理制卡失败" in answer.text
    assert card_status(failed.card_id) == "failed"
    assert stats.status_code == 200 and 'id="overall-progress"' in stats.text


def test_a_box_handover_moves_every_card_and_a_card_is_issued_to_its_holder(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    code, cards = boxed_cards(2)
    with pages_as(live_server, make_account("clerk")) as http:
        scanned = http.post(
            "/cards/handover/scan", data={"code": code.lower(), "csrf_token": csrf(http)}
        )
        assert scanned.status_code == 303
        assert scanned.headers["location"] == f"/cards/handover?box={code}"
        missing = http.post(
            "/cards/handover",
            data={
                "box_code": code,
                "to_place": "",
                "handler": "卡商甲",
                "receiver": "柜员乙",
                "csrf_token": csrf(http),
            },
        )
        moved = http.post(
            "/cards/handover",
            data={
                "box_code": code,
                "to_place": place().hall,
                "handler": "卡商甲",
                "receiver": "柜员乙",
                "csrf_token": csrf(http),
            },
        )
        shown = http.get(moved.headers["location"])
        one = http.post(
            "/cards/handover/scan", data={"code": cards[0].card_number, "csrf_token": csrf(http)}
        )
        assert one.headers["location"] == f"/cards/handover?card={cards[0].card_id}"
        issued = http.post(
            "/cards/handover",
            data={
                "card_id": cards[0].card_id,
                "to_place": "holder",
                "handler": "柜员乙",
                "receiver": "持卡人本人",
                "csrf_token": csrf(http),
            },
        )
        confirm = http.get(f"/cards/c/{cards[0].card_id}/activate")
        activated = http.post(
            f"/cards/c/{cards[0].card_id}/activate",
            data={"version": version_of(confirm.text), "csrf_token": csrf(http)},
        )
        card_page = http.get(f"/cards/c/{cards[0].card_id}")
        unknown = http.post(
            "/cards/handover/scan", data={"code": "NOSUCHBOX", "csrf_token": csrf(http)}
        )
    assert missing.status_code == 422 and "请选择交接至何处" in missing.text
    assert moved.status_code == 303 and shown.text.count("测试服务大厅") >= 2
    assert "交接已登记" in shown.text
    assert issued.status_code == 303
    assert "一次办结" in confirm.text and activated.status_code == 303
    assert [card_status(c.card_id) for c in cards] == ["active", "at_distribution_point"]
    assert 'id="activation"' in card_page.text and "已启用" in card_page.text
    assert "交付持卡人" not in card_page.text and "持卡人本人" in card_page.text
    assert unknown.status_code == 404 and "未找到该卡盒或卡片" in unknown.text


def test_a_persons_cards_are_found_by_a_posted_id_number(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    card = active_card()
    with pages_as(live_server, make_account("clerk")) as http:
        answer = http.post(
            "/cards",
            data={"mode": "person", "id_number": card.person.id_number, "csrf_token": csrf(http)},
        )
        by_number = http.post(
            "/cards", data={"mode": "card", "card_ref": card.card_number, "csrf_token": csrf(http)}
        )
        page = http.get(f"/cards/c/{card.card_id}")
        unlock = http.get(f"/cards/c/{card.card_id}/unlock")
        refused = http.post(f"/cards/c/{card.card_id}/unlock", data={"csrf_token": csrf(http)})
        nothing = http.get(f"/cards/c/{card.card_id}/explode")
    assert 'id="unavailable"' in unlock.text and 'id="confirm-form"' not in unlock.text
    assert refused.status_code == 409 and "不能办理解挂" in refused.text
    assert card_status(card.card_id) == "active"
    assert nothing.status_code == 404 and 'id="refusal"' in nothing.text
    assert answer.status_code == 200 and f'href="/cards/c/{card.card_id}"' in answer.text
    assert card.person.id_number not in answer.text
    assert by_number.status_code == 303
    assert by_number.headers["location"] == f"/cards/c/{card.card_id}"
    assert page.headers["cache-control"] == "no-store"
    assert card.person.id_number not in page.text
    assert "621700*********0123" in page.text
    for op in ("temporary-loss", "loss", "pin-reset", "replace", "cancel"):
        assert f'id="op-{op}"' in page.text
    assert 'id="op-unlock"' not in page.text


def test_a_card_page_says_when_activation_will_skip_the_bank_step(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    """The test server has no SSCARD_BANK_URLS: the bank account cannot be enabled."""
    bank, holder = place().bank, person()
    with db.transaction() as session, context.acting(SETUP):
        card = _made(session, SETUP, _apply(session, SETUP, bank, holder.id_number))
        issuance_service.transition(session, card=card, action=Action.issue, actor=SETUP)
        issued_id = card.id
    active = active_card()
    with pages_as(live_server, make_account("clerk")) as http:
        issued = http.get(f"/cards/c/{issued_id}")
        assert issued.status_code == 200, issued.text
        assert 'id="bank-unconfigured"' in issued.text
        assert "SSCARD_BANK_URLS" in issued.text and "跳过银行账户启用" in issued.text
        done = http.get(f"/cards/c/{active.card_id}")
        assert done.status_code == 200 and 'id="bank-unconfigured"' not in done.text
