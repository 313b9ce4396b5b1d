"""Every page the platform serves, checked with axe-core in Chromium at a desktop's and a
phone's size: no serious or critical accessibility violation (contrast, names of inputs and
buttons, links told apart by more than colour, the page's language, landmarks ...).

axe-core is vendored for the tests only (tests/browser/vendor/axe-core, MPL-2.0); it is
injected into each page after it has loaded (past the pages' Content-Security-Policy,
which refuses inline scripts), never served by the platform.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from tests.browser.test_registry_pages import credit_code
from tests.conftest import needs_chromium
from tests.e2e.test_ecard_pages import ECARD_PIN, SIGNER, Holder, active_holder
from tests.e2e.test_issuance_pages import active_card, batch_with_a_failure, person
from tests.support import Account, LiveServer

from sscard import db
from sscard.ecard.oauth import rules as oauth_rules
from sscard.ecard.oauth import service as oauth_service
from sscard.ecard.oauth.schemas import ClientIn
from sscard.iam import service as iam_service
from sscard.kit import context
from sscard.registry.units import service as units_service
from sscard.registry.units.schemas import EmployerCreate

pytestmark = [needs_chromium, pytest.mark.browser]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
BLOCKING = ("serious", "critical")
REDIRECT = "https://bank.example/callback"
VERIFIER = "a-verifier-long-enough-for-pkce-0123456789abcdef"

Opener = Callable[[str], Any]
"""Open a new page at the test's size as the given kind of visitor."""

RUN_AXE = """async () => {
    const result = await axe.run(document, {resultTypes: ['violations']});
    return result.violations.map(v => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.map(n => n.target.join(' ')),
    }));
}"""


@dataclass(frozen=True)
class World:
    """What the pages need to show something: a card, a batch, a person, a unit, a
    resident with an e-card, a client asking for consent."""

    card_id: str
    card_number: str
    batch_no: str
    failure_id: int
    person_id: str
    employer_id: int
    holder: Holder
    consent_query: str


@dataclass(frozen=True)
class Screen:
    """One page: who opens it, its address (from the world) and what shows it is ready."""

    who: str
    path: Callable[[World], str]
    ready: str = "body"


def _fixed(path: str) -> Callable[[World], str]:
    return lambda _world: path


PAGES: dict[str, Screen] = {
    "login": Screen("nobody", _fixed("/login")),
    "api-docs": Screen("nobody", _fixed("/api/docs"), ".opblock"),
    "portal-demo": Screen("nobody", _fixed("/portal-demo")),
    "credential-verify": Screen("nobody", _fixed("/ecard/credential")),
    "wallet-login": Screen("nobody", _fixed("/wallet/login")),
    "wallet-login-elder": Screen("elder-nobody", _fixed("/wallet/login")),
    "pin-reset": Screen("nobody", _fixed("/wallet/pin-reset")),
    "home": Screen("clerk", _fixed("/")),
    "card-lookup": Screen("clerk", _fixed("/cards")),
    "card-apply": Screen("clerk", _fixed("/cards/apply")),
    "card-apply-person": Screen("clerk", lambda w: f"/cards/apply/p/{w.person_id}"),
    "card": Screen("clerk", lambda w: f"/cards/c/{w.card_id}"),
    "card-confirm": Screen("clerk", lambda w: f"/cards/c/{w.card_id}/temporary-loss"),
    "handover": Screen("clerk", _fixed("/cards/handover")),
    "guide": Screen("clerk", _fixed("/cards/guide")),
    "batches": Screen("card_manager", _fixed("/cards/batches")),
    "batch": Screen("card_manager", lambda w: f"/cards/batches/{w.batch_no}"),
    "failures": Screen("card_manager", _fixed("/cards/failures")),
    "pending": Screen("card_manager", _fixed("/cards/pending")),
    "failures-all": Screen("card_manager", _fixed("/cards/failures?status=all")),
    "failure-confirm": Screen("card_manager", lambda w: f"/cards/failures/{w.failure_id}/resolve"),
    "home-analyst": Screen("analyst", _fixed("/")),
    "stats-analyst": Screen("analyst", _fixed("/cards/stats")),
    "stats": Screen("card_manager", _fixed("/cards/stats")),
    "registry-search": Screen("clerk", _fixed("/registry/persons")),
    "registry-person-new": Screen("clerk", _fixed("/registry/persons/new")),
    "registry-person": Screen("clerk", lambda w: f"/registry/persons/p/{w.person_id}"),
    "registry-person-edit": Screen("clerk", lambda w: f"/registry/persons/p/{w.person_id}/edit"),
    "registry-death": Screen("clerk", lambda w: f"/registry/persons/p/{w.person_id}/death"),
    "registry-units": Screen("clerk", _fixed("/registry/employers")),
    "registry-unit-new": Screen("clerk", _fixed("/registry/employers/new")),
    "registry-unit": Screen("clerk", lambda w: f"/registry/employers/{w.employer_id}"),
    "registry-communities": Screen("clerk", _fixed("/registry/communities")),
    "ecard-counter": Screen("clerk", _fixed("/ecard/counter")),
    "terminal": Screen("clerk", _fixed("/terminal")),
    "merchants": Screen("clerk", _fixed("/payments/merchants")),
    "merchant-new": Screen("clerk", _fixed("/payments/merchants/new")),
    "consent": Screen("resident", lambda w: f"/api/v1/ecard/oauth/authorize?{w.consent_query}"),
}
WALLET = {
    "wallet": ("/wallet", "#qr-panel"),
    "wallet-insurance": ("/wallet/insurance", "body"),
    "wallet-access-log": ("/wallet/access-log", "body"),
    "wallet-family": ("/wallet/family-service", "body"),
    "wallet-card": ("/wallet/card", "body"),
    "wallet-scan": ("/wallet/scan", "body"),
    "wallet-phone": ("/wallet/phone", "body"),
    "wallet-paycode": ("/wallet/pay/code", "#pay-panel"),
    "wallet-payscan": ("/wallet/pay/scan", "#scan"),
}
for _name, (_path, _ready) in WALLET.items():
    PAGES[_name] = Screen("resident", _fixed(_path), _ready)
    PAGES[f"{_name}-elder"] = Screen("elder-resident", _fixed(_path), _ready)


def _employer() -> int:
    with db.transaction() as session, context.acting(SIGNER):
        data = EmployerCreate(
            credit_code=credit_code(), name="无障碍测试单位", region_code="370811"
        )
        return units_service.create_employer(session, data=data).id


def _consent_query() -> str:
    """Ask a bank app's consent (the authorize request that leads to the consent page)."""
    client_id = "a11y-bank-app"
    with db.transaction() as session:
        owner = iam_service.ensure_platform_institution(session).code
        data = ClientIn(
            name="某银行手机银行",
            institution_code=owner,
            redirect_uris=[REDIRECT],
            scopes=["profile", "card"],
        )
        oauth_service.ensure_client(session, client_id=client_id, data=data)
    return urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "scope": "profile card",
            "state": "a11y",
            "code_challenge": oauth_rules.s256(VERIFIER),
            "code_challenge_method": "S256",
        }
    )


@pytest.fixture(scope="module")
def world(live_server: LiveServer) -> World:
    batch_no, _failed, failure_id = batch_with_a_failure()
    card = active_card()
    return World(
        card_id=card.card_id,
        card_number=card.card_number,
        batch_no=batch_no,
        failure_id=failure_id,
        person_id=person().person_id,
        employer_id=_employer(),
        holder=active_holder(),
        consent_query=_consent_query(),
    )


def _operator_login(page: Any, server: LiveServer, account: Account) -> None:
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", account.username)
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")


def _wallet_login(page: Any, server: LiveServer, holder: Holder) -> None:
    page.goto(f"{server.url}/wallet/login")
    page.fill("#w-id_number", holder.id_number)
    page.fill("#w-ecard_pin", ECARD_PIN)
    page.select_option("#w-channel", holder.channel)
    page.click("#wallet-login button[type=submit]")
    page.wait_for_url(f"{server.url}/wallet")


@pytest.fixture(scope="module")
def signed_in(
    browser: Any, live_server: LiveServer, make_account: Callable[..., Account], world: World
) -> Callable[[str], dict[str, Any]]:
    """The browser state (cookies) of each kind of visitor, signed in once per module."""
    states: dict[str, dict[str, Any]] = {}

    def state(who: str) -> dict[str, Any]:
        if who not in states:
            scratch = browser.new_context(locale="zh-CN")
            page = scratch.new_page()
            page.set_default_timeout(45000)
            if who.endswith("resident"):
                _wallet_login(page, live_server, world.holder)
            elif who.endswith("nobody"):
                page.goto(f"{live_server.url}/wallet/login")
            else:
                _operator_login(page, live_server, make_account(who))
            if who.startswith("elder-"):
                page.goto(f"{live_server.url}/wallet/login")
                page.click("#mode-switch")
                page.wait_for_selector("body.elder")
            states[who] = scratch.storage_state()
            scratch.close()
        return states[who]

    return state


@pytest.fixture(params=sorted(SIZES))
def size(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def visitor(browser: Any, size: str) -> Iterator[Callable[[dict[str, Any]], Any]]:
    contexts: list[Any] = []

    def open_page(state: dict[str, Any]) -> Any:
        opened = browser.new_context(
            locale="zh-CN", viewport=SIZES[size], storage_state=state, bypass_csp=True
        )
        contexts.append(opened)
        page = opened.new_page()
        page.set_default_timeout(45000)
        return page

    yield open_page
    for opened in contexts:
        opened.close()


def _at(server: LiveServer, page: Any, path: str) -> None:
    page.goto(f"{server.url}{path}")


def _login_refused(open_as: Opener, server: LiveServer, _world: World) -> Any:
    page = open_as("nobody")
    _at(server, page, "/login")
    page.fill("input[name=username]", "nobody")
    page.fill("input[name=password]", "not-the-password1")
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_selector("#login-error")
    return page


def _person_form_with_errors(open_as: Opener, server: LiveServer, _world: World) -> Any:
    page = open_as("clerk")
    _at(server, page, "/registry/persons/new")
    page.click("#save-person")
    page.wait_for_selector("[aria-invalid=true]")
    return page


def _counter_card_found(open_as: Opener, server: LiveServer, world: World) -> Any:
    page = open_as("clerk")
    _at(server, page, "/ecard/counter")
    page.fill("#c-card_number", world.card_number)
    page.click("#find-form button[type=submit]")
    page.wait_for_selector("#sign-form")
    return page


def _counter_sign_refused(open_as: Opener, server: LiveServer, world: World) -> Any:
    page = _counter_card_found(open_as, server, world)
    page.click("#sign-button")
    page.wait_for_selector("#sign-form [aria-invalid=true]")
    return page


def _terminal_verdict(open_as: Opener, server: LiveServer, _world: World) -> Any:
    wallet = open_as("resident")
    _at(server, wallet, "/wallet")
    code = wallet.get_attribute("#qr-panel", "data-code")
    page = open_as("clerk")
    _at(server, page, "/terminal")
    page.select_option("#t-scenario", "library")
    page.fill("#t-code", str(code))
    page.click("#verify-button")
    page.wait_for_selector("#verdict")
    return page


def _wallet_credential(open_as: Opener, server: LiveServer, _world: World) -> Any:
    page = open_as("resident")
    _at(server, page, "/wallet")
    page.click("#credential-button")
    page.wait_for_selector("#credential-panel")
    return page


def _elder_wallet_credential(open_as: Opener, server: LiveServer, _world: World) -> Any:
    page = open_as("elder-resident")
    _at(server, page, "/wallet")
    page.click("#credential-button")
    page.wait_for_selector("#credential-panel")
    return page


AFTER: dict[str, Callable[[Opener, LiveServer, World], Any]] = {
    "login-refused": _login_refused,
    "registry-person-form-with-errors": _person_form_with_errors,
    "ecard-counter-card-found": _counter_card_found,
    "ecard-counter-sign-refused": _counter_sign_refused,
    "terminal-verdict": _terminal_verdict,
    "wallet-credential": _wallet_credential,
    "wallet-credential-elder": _elder_wallet_credential,
}


def violations_on(page: Any) -> list[str]:
    """The serious and critical violations axe finds, one line each: rule, where, why."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(RUN_AXE)
    return [
        f"{v['id']} ({v['impact']}) at {target}: {v['help']}"
        for v in found
        if v["impact"] in BLOCKING
        for target in v["targets"]
    ]


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_page_has_no_serious_or_critical_accessibility_violation(
    name: str,
    visitor: Callable[[dict[str, Any]], Any],
    signed_in: Callable[[str], dict[str, Any]],
    world: World,
    live_server: LiveServer,
) -> None:
    screen = PAGES[name]
    page = visitor(signed_in(screen.who))
    answer = page.goto(f"{live_server.url}{screen.path(world)}")
    assert answer is not None and answer.status == 200, page.url
    page.wait_for_selector(screen.ready)
    if screen.who.startswith("elder-"):
        assert page.locator("body.elder").count() == 1
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.locator("main, [role=main]").count() == 1, "the page has one main landmark"
    found = violations_on(page)
    assert not found, f"{name} at {page.url}:\n" + "\n".join(found)


@pytest.mark.parametrize("name", sorted(AFTER))
def test_a_page_showing_a_result_or_errors_has_no_serious_or_critical_violation(
    name: str,
    visitor: Callable[[dict[str, Any]], Any],
    signed_in: Callable[[str], dict[str, Any]],
    world: World,
    live_server: LiveServer,
) -> None:
    page = AFTER[name](lambda who: visitor(signed_in(who)), live_server, world)
    found = violations_on(page)
    assert not found, f"{name} at {page.url}:\n" + "\n".join(found)
