"""The e-card pages over HTTP: the wallet's login, CSRF and pages, the terminal page's
permission and image decoding, the counter signing page.

Holders are set up through the services in committed transactions (the live server shares
the test database): a person with a photo and an enrolment, a card made, issued and
activated with its PIN set, and an e-card signed at a counter.
"""

from __future__ import annotations

import io
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import httpx
import pytest
import segno
from PIL import Image
from pydantic import SecretStr
from tests.integration.cards import _active
from tests.integration.conftest import PERMISSIONS
from tests.support import Account, LiveServer, citizen_id, person_body

from sscard import db
from sscard.ecard import caches as ecard_caches
from sscard.ecard import service as ecard_service
from sscard.ecard.schemas import RealPerson, SignIn
from sscard.errors import ValidationFailed
from sscard.iam import service as iam_service
from sscard.iam.catalog import ChannelType, InstitutionType
from sscard.iam.schemas import ChannelCreate, InstitutionCreate
from sscard.issuance.cards import number_service
from sscard.issuance.cards import service as issuance_service
from sscard.issuance.cards.schemas import RangeIn
from sscard.kit import context
from sscard.kit.context import Actor, ActorKind
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.schemas import PersonCreate
from sscard.registry.photos import portraits
from sscard.registry.photos import service as registry_photos
from sscard.scenarios import service as scenarios_service

CARD_PIN = "802417"
ECARD_PIN = "246810"
HOLDER_NAME = "测试人员"
SIGNER = Actor(
    kind=ActorKind.operator,
    id="ecard-page-clerk",
    name="签发柜员",
    institution_code="PLATFORM",
    institution_type="hrss_bureau",
    region_code="370800",
    permissions=PERMISSIONS | {"ecard.sign"},
)


@dataclass(frozen=True)
class Holder:
    id_number: str
    person_id: str
    card_id: str
    card_number: str
    channel: str


@dataclass(frozen=True)
class Setting:
    channel: str
    bank: str


@cache
def _setting(database: str) -> Setting:
    """A channel app, a bank and a number range in the test database (once per database)."""
    suffix = secrets.token_hex(3).upper()
    with db.transaction() as session, context.acting(SIGNER):
        owner = iam_service.ensure_platform_institution(session).code
        channel = f"TW{suffix}"
        iam_service.create_channel(
            session,
            data=ChannelCreate(
                code=channel,
                name="测试人社APP",
                type=ChannelType.hrss_app,
                owner_institution_code=owner,
            ),
        )
        bank = f"BW{suffix}"
        iam_service.create_institution(
            session,
            data=InstitutionCreate(
                code=bank, name="测试合作银行", type=InstitutionType.bank, region_code="370800"
            ),
        )
        scenarios_service.ensure_default_scenarios(session)
    _add_range()
    return Setting(channel, bank)


def _add_range() -> None:
    for _ in range(20):
        prefix = "W" + secrets.token_hex(1).upper()
        try:
            with db.transaction() as session:
                number_service.add_range(
                    session, data=RangeIn(region_code="370800", prefix=prefix, start=1, end=5000)
                )
            return
        except ValidationFailed:
            continue
    raise RuntimeError("no free number range prefix")


def setting() -> Setting:
    return _setting(str(db.get_engine().url))


def active_holder(*, signed: bool = True, born: str | None = None) -> Holder:
    """A person with an active card (PIN set) and, unless ``signed`` is False, an e-card
    signed at a counter in the test channel app (committed)."""
    where = setting()
    number = citizen_id("370811", born)
    body = person_body(
        number,
        enrolments=[{"insurance_type": "110", "status": "enrolled", "start_date": "2015-07-01"}],
    )
    with db.transaction() as session, context.acting(SIGNER):
        registry_service.create_person(
            session, data=PersonCreate.model_validate(body), actor=SIGNER
        )
        registry_photos.put_photo(
            session, id_number=number, data=portraits.demo_portrait(3), actor=SIGNER
        )
        card = _active(session, SIGNER, where.bank, number)
        issuance_service.set_pin(session, card_ref=card.id, pin=CARD_PIN, actor=SIGNER)
        if signed:
            ecard_service.sign(
                session, data=sign_in(number, card.card_number or "", where.channel), actor=SIGNER
            )
        holder = Holder(number, card.person_id, card.id, card.card_number or "", where.channel)
    return holder


def sign_in(id_number: str, card_number: str, channel: str) -> SignIn:
    return SignIn(
        id_number=id_number,
        name=HOLDER_NAME,
        card_number=card_number,
        card_pin=SecretStr(CARD_PIN),
        channel_code=channel,
        real_person=RealPerson(method="counter"),
        ecard_pin=SecretStr(ECARD_PIN),
    )


def bind_minor(guardian: Holder, minor: Holder) -> bool:
    """Bind ``minor`` to the guardian's wallet (亲情服务); False without a family service."""
    try:
        from sscard.ecard.family import service as family
        from sscard.ecard.family.schemas import FamilyBindIn
    except ImportError:
        return False
    with db.transaction() as session:
        _raw, resident = ecard_service.login(
            session, id_number=guardian.id_number, pin=ECARD_PIN, channel_code=guardian.channel
        )
        data = FamilyBindIn(member_id_number=minor.id_number, member_name=HOLDER_NAME)
        family.bind(session, guardian=resident, data=data)
    return True


def report_loss(holder: Holder) -> None:
    with db.transaction() as session, context.acting(SIGNER):
        issuance_service.report_loss(session, card_ref=holder.card_id, temporary=True, actor=SIGNER)


def qr_png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


def csrf(http: httpx.Client) -> str:
    return str(http.cookies["sscard_csrf"])


@contextmanager
def browser_client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as http:
        yield http


def wallet_login(http: httpx.Client, holder: Holder, pin: str = ECARD_PIN) -> httpx.Response:
    http.get("/wallet/login")
    return http.post(
        "/wallet/login",
        data={
            "csrf_token": csrf(http),
            "id_number": holder.id_number,
            "ecard_pin": pin,
            "channel": holder.channel,
        },
    )


@contextmanager
def wallet_of(server: LiveServer, holder: Holder) -> Iterator[httpx.Client]:
    """A phone's browser with the holder's wallet open."""
    with browser_client(server) as http:
        answer = wallet_login(http, holder)
        assert answer.status_code == 303, answer.text
        yield http


@contextmanager
def console_as(server: LiveServer, account: Account) -> Iterator[httpx.Client]:
    """An operator's browser logged in to the console."""
    with browser_client(server) as http:
        http.get("/login")
        answer = http.post(
            "/login",
            data={
                "username": account.username,
                "password": account.password,
                "csrf_token": csrf(http),
            },
        )
        assert answer.status_code == 303, answer.text
        yield http


def code_on(page_html: str) -> str:
    found = re.search(r'data-code="(EC[A-Z2-7]{50})"', page_html)
    assert found, "the wallet shows no code"
    return found.group(1)


def verify_on_terminal(
    http: httpx.Client, *, scenario: str, code: str = "", image: bytes | None = None
) -> httpx.Response:
    files = {"image": ("scan.png", image, "image/png")} if image is not None else None
    return http.post(
        "/terminal/verify",
        data={"csrf_token": csrf(http), "scenario": scenario, "code": code},
        files=files,
    )


# ---- the wallet ------------------------------------------------------------------------------


def test_the_wallet_sends_a_resident_without_a_session_to_its_login_form(
    live_server: LiveServer,
) -> None:
    with browser_client(live_server) as http:
        for path in ("/wallet", "/wallet/insurance", "/wallet/access-log"):
            answer = http.get(path)
            assert answer.status_code == 303
            assert answer.headers["location"] == "/wallet/login"
        http.cookies.set("sscard_wallet", "ser_not-a-session", path="/wallet")
        assert http.get("/wallet").headers["location"] == "/wallet/login"
        refused = http.post("/wallet/codes", json={"business": 1})
        assert refused.status_code == 401
        assert refused.json()["error"] == "resident_session_invalid"
        form = http.get("/wallet/login")
        assert form.status_code == 200
        assert form.headers["cache-control"] == "no-store"
        assert 'name="ecard_pin"' in form.text


def test_a_wrong_ecard_pin_is_refused_with_the_one_answer_then_the_right_one_opens_it(
    live_server: LiveServer,
) -> None:
    holder = active_holder()
    with browser_client(live_server) as http:
        refused = wallet_login(http, holder, pin="135792")
        assert refused.status_code == 401
        assert "证件号码或电子社保卡密码错误" in refused.text
        alert = re.search(r'id="wallet-error">([^<]*)<', refused.text)
        assert alert and holder.id_number not in alert.group(1)
        assert f'value="{holder.id_number}"' in refused.text
        assert refused.text.count(holder.id_number) == 1
        assert "sscard_wallet" not in http.cookies
        opened = wallet_login(http, holder)
        assert opened.status_code == 303 and opened.headers["location"] == "/wallet"
        cookie = opened.headers["set-cookie"]
        assert "sscard_wallet=ser_" in cookie
        assert "HttpOnly" in cookie and "Path=/wallet" in cookie
        assert http.get("/wallet").status_code == 200


def test_wallet_forms_and_code_requests_without_the_csrf_token_are_refused(
    live_server: LiveServer,
) -> None:
    holder = active_holder()
    with browser_client(live_server) as http:
        http.get("/wallet/login")
        refused = http.post(
            "/wallet/login",
            data={
                "id_number": holder.id_number,
                "ecard_pin": ECARD_PIN,
                "channel": holder.channel,
                "csrf_token": "forged",
            },
        )
        assert refused.status_code == 403
        assert "页面已过期" in refused.text
    with wallet_of(live_server, holder) as http:
        no_header = http.post("/wallet/codes", json={"business": 1})
        assert no_header.status_code == 403
        assert no_header.json()["error"] == "csrf_failed"
        assert http.post("/wallet/logout", data={"csrf_token": "forged"}).status_code == 403
        assert http.get("/wallet").status_code == 200


def test_the_wallet_shows_a_masked_card_and_fresh_codes_of_each_business_type(
    live_server: LiveServer,
) -> None:
    holder = active_holder()
    with wallet_of(live_server, holder) as http:
        home = http.get("/wallet")
        assert home.status_code == 200
        assert home.headers["cache-control"] == "no-store"
        first = code_on(home.text)
        assert "<svg" in home.text and 'class="qr-svg"' in home.text
        assert holder.card_number not in home.text
        assert holder.card_number[:2] in home.text
        assert holder.id_number not in home.text and HOLDER_NAME not in home.text
        assert "测***" in home.text
        answer = http.post(
            "/wallet/codes", json={"business": 4}, headers={"X-CSRF-Token": csrf(http)}
        )
        assert answer.status_code == 200
        fresh = answer.json()
        assert fresh["business"] == 4 and fresh["business_name"] == "异地就医"
        assert fresh["code"] != first and fresh["svg"].startswith("<svg")
        assert 50 <= fresh["expires_in"] <= fresh["ttl_seconds"]
        wrong = http.post(
            "/wallet/codes", json={"business": 9}, headers={"X-CSRF-Token": csrf(http)}
        )
        assert wrong.status_code == 422


def test_my_insurance_and_who_accessed_my_data(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    holder = active_holder()
    with (
        wallet_of(live_server, holder) as wallet,
        console_as(live_server, make_account("clerk")) as console,
    ):
        insurance = wallet.get("/wallet/insurance")
        assert insurance.status_code == 200
        assert "企业职工基本养老保险" in insurance.text and "参保缴费" in insurance.text
        assert insurance.text.count("暂无数据") == 3
        verified = verify_on_terminal(
            console, scenario="library", code=code_on(wallet.get("/wallet").text)
        )
        assert verified.status_code == 200, verified.text
        log = wallet.get("/wallet/access-log")
        assert log.status_code == 200
        assert "扫码核验电子社保卡" in log.text
        assert "签发电子社保卡" in log.text
        assert holder.id_number not in log.text


def test_a_suspended_ecard_shows_a_banner_instead_of_a_code(live_server: LiveServer) -> None:
    holder = active_holder()
    with wallet_of(live_server, holder) as http:
        report_loss(holder)
        home = http.get("/wallet")
        assert home.status_code == 200
        assert "电子社保卡已暂停使用" in home.text
        assert "data-code" not in home.text
        refused = http.post(
            "/wallet/codes", json={"business": 1}, headers={"X-CSRF-Token": csrf(http)}
        )
        assert refused.status_code == 423 and refused.json()["error"] == "card_suspended"


def test_logging_out_ends_the_wallet_session(live_server: LiveServer) -> None:
    holder = active_holder()
    with wallet_of(live_server, holder) as http:
        token = http.cookies["sscard_wallet"]
        answer = http.post("/wallet/logout", data={"csrf_token": csrf(http)})
        assert answer.status_code == 303 and answer.headers["location"] == "/wallet/login"
        http.cookies.set("sscard_wallet", token, path="/wallet")
        assert http.get("/wallet").headers["location"] == "/wallet/login"
    with live_server.client(token) as api:
        assert api.get("/api/v1/ecard/me").status_code == 401


def test_a_guardian_shows_a_minors_code_marked_as_proxy_but_never_for_payment(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    guardian, minor = active_holder(), active_holder(born="20160301")
    with wallet_of(live_server, guardian) as wallet:
        if not bind_minor(guardian, minor):
            assert wallet.get("/wallet/family").json()["members"] == []
            pytest.skip("the family service is not there yet")
        members = wallet.get("/wallet/family").json()["members"]
        assert [m["label"] for m in members] == ["测***（未成年人）"]
        url = f"/wallet/family/{members[0]['id']}/codes"
        headers = {"X-CSRF-Token": csrf(wallet)}
        payment = wallet.post(url, json={"business": 2}, headers=headers)
        assert payment.status_code == 422
        assert payment.json()["error"] == "proxy_payment_refused"
        code = wallet.post(url, json={"business": 1}, headers=headers).json()["code"]
    with console_as(live_server, make_account("clerk")) as console:
        shown = verify_on_terminal(console, scenario="library", code=code)
        assert shown.status_code == 200, shown.text
        assert 'id="proxy-mark"' in shown.text


# ---- the terminal page -----------------------------------------------------------------------


def test_the_terminal_page_needs_a_login_and_the_ecard_verify_permission(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    with browser_client(live_server) as http:
        answer = http.get("/terminal")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=/terminal"
    with console_as(live_server, make_account("auditor")) as http:
        refused = http.get("/terminal")
        assert refused.status_code == 403
        assert "没有权限" in refused.text
        posted = verify_on_terminal(http, scenario="library", code="EC" + "A" * 50)
        assert posted.status_code == 403
    with console_as(live_server, make_account("clerk")) as http:
        page = http.get("/terminal")
        assert page.status_code == 200
        assert "图书馆借阅" in page.text and "医院就医" in page.text


def test_a_picture_without_a_qr_code_gets_a_clear_message(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    blank = io.BytesIO()
    Image.new("RGB", (320, 240), "white").save(blank, format="PNG")
    with console_as(live_server, make_account("clerk")) as http:
        answer = verify_on_terminal(http, scenario="library", image=blank.getvalue())
        assert answer.status_code == 422
        assert "图片中没有找到二维码" in answer.text
        junk = verify_on_terminal(http, scenario="library", image=b"not a picture at all")
        assert junk.status_code == 422
        assert "无法识别的图片" in junk.text
        empty = verify_on_terminal(http, scenario="library")
        assert empty.status_code == 422
        assert "请扫描或粘贴二维码内容" in empty.text
        frame = http.post(
            "/terminal/decode",
            files={"image": ("frame.png", blank.getvalue(), "image/png")},
            headers={"X-CSRF-Token": csrf(http)},
        )
        assert frame.json()["found"] is False


def test_the_terminal_decodes_an_uploaded_code_and_refuses_it_the_second_time(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    holder = active_holder()
    with (
        wallet_of(live_server, holder) as wallet,
        console_as(live_server, make_account("clerk")) as console,
    ):
        code = code_on(wallet.get("/wallet").text)
        frame = console.post(
            "/terminal/decode",
            files={"image": ("frame.png", qr_png(code), "image/png")},
            headers={"X-CSRF-Token": csrf(console)},
        )
        assert frame.json() == {"found": True, "code": code}
        accepted = verify_on_terminal(console, scenario="hospital", image=qr_png(code))
        assert accepted.status_code == 200, accepted.text
        assert 'data-outcome="valid"' in accepted.text
        assert holder.id_number in accepted.text and HOLDER_NAME in accepted.text
        again = verify_on_terminal(console, scenario="hospital", code=code)
        assert again.status_code == 409
        assert 'data-outcome="code_already_used"' in again.text
        assert "二维码已被使用" in again.text
        assert holder.id_number not in again.text


def test_a_library_sees_only_the_masked_name_and_a_lost_card_is_refused(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    holder = active_holder()
    with (
        wallet_of(live_server, holder) as wallet,
        console_as(live_server, make_account("clerk")) as console,
    ):
        library = verify_on_terminal(
            console, scenario="library", code=code_on(wallet.get("/wallet").text)
        )
        assert library.status_code == 200
        assert "测***" in library.text
        assert HOLDER_NAME not in library.text and holder.id_number not in library.text
        code = code_on(wallet.get("/wallet").text)
        altered = code[:20] + ("B" if code[20] == "A" else "A") + code[21:]
        tampered = verify_on_terminal(console, scenario="library", code=altered)
        assert 'data-outcome="code_invalid"' in tampered.text
        report_loss(holder)
        time.sleep(ecard_caches.STATE_SECONDS + 0.2)
        refused = verify_on_terminal(console, scenario="library", code=code)
        assert 'data-outcome="card_suspended"' in refused.text
        assert "卡已挂失" in refused.text


# ---- the counter signing page ------------------------------------------------------------------


def test_a_clerk_finds_the_card_and_signs_the_ecard_after_the_three_checks(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    holder = active_holder(signed=False)
    with console_as(live_server, make_account("clerk")) as http:
        assert http.get("/ecard/counter").status_code == 200
        found = http.post(
            "/ecard/counter/find",
            data={"csrf_token": csrf(http), "card_number": holder.card_number},
        )
        assert found.status_code == 200
        assert holder.card_number not in found.text
        assert 'id="sign-form"' in found.text
        form = {
            "csrf_token": csrf(http),
            "card_id": holder.card_id,
            "name": HOLDER_NAME,
            "id_number": holder.id_number,
            "card_pin": CARD_PIN,
            "ecard_pin": ECARD_PIN,
            "ecard_pin_confirm": ECARD_PIN,
            "channel": holder.channel,
        }
        unconfirmed = http.post("/ecard/counter/sign", data=form)
        assert unconfirmed.status_code == 422
        assert "请当面核对持卡人本人后勾选确认" in unconfirmed.text
        form["real_person"] = "confirmed"
        wrong_name = http.post("/ecard/counter/sign", data={**form, "name": "别人"})
        assert "实名核验未通过" in wrong_name.text
        assert holder.id_number not in wrong_name.text
        wrong_pin = http.post("/ecard/counter/sign", data={**form, "card_pin": "000001"})
        assert "密码错误" in wrong_pin.text
        signed = http.post("/ecard/counter/sign", data=form)
        assert signed.status_code == 200, signed.text
        assert "电子社保卡已签发" in signed.text
        assert holder.channel in signed.text
        assert holder.card_number not in signed.text and holder.id_number not in signed.text
    with browser_client(live_server) as http:
        assert wallet_login(http, holder).status_code == 303


def test_the_counter_page_needs_the_ecard_sign_permission(
    live_server: LiveServer, make_account: Callable[..., Account]
) -> None:
    with console_as(live_server, make_account("auditor")) as http:
        assert http.get("/ecard/counter").status_code == 403
