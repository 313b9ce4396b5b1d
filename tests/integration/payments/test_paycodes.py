"""Payment codes (付款码): issued for a live e-card, claimed once, refused when expired, for a
lost card, without the PIN above the no-PIN limit, with a wrong PIN (which counts), and past
the card's limit for the day."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from tests.integration.payments.holders import CLERK, ECARD_PIN, Holder, Shop, holder, shop

from sscard import db
from sscard.ecard import service as ecard_service
from sscard.errors import SSCardError, ValidationFailed
from sscard.issuance.cards import service as issuance_service
from sscard.issuance.lifecycle import Action
from sscard.kit.context import SYSTEM, acting
from sscard.payments.codes.paycode import PaycodeCodec
from sscard.payments.paycodes import keys, service
from sscard.payments.paycodes.errors import CardNotUsable, CodeExpired, CodeUsed, DayLimitReached
from sscard.payments.paycodes.models import PaymentCode
from sscard.settings import reset_settings


@pytest.fixture
def payer(engine: Engine) -> Iterator[Holder]:
    ecard_service.forget_states()
    yield holder()
    ecard_service.forget_states()


@pytest.fixture
def merchant(engine: Engine) -> Shop:
    return shop()


def _issue(person_id: str) -> str:
    with acting(SYSTEM), db.transaction() as session:
        return service.issue_paycode(session, person_id=person_id).code


def _charge(code: str, shop: Shop, amount_fen: int, pin: str | None = None, order: str = "") -> int:
    with acting(SYSTEM), db.transaction() as session:
        charge = service.claim_for_charge(
            session,
            text=code,
            merchant_code=shop.code,
            merchant_order_no=order or f"T{time.time_ns()}",
            amount_fen=amount_fen,
            pin=pin,
        )
        return charge.id


def test_a_payment_code_is_19_digits_for_the_live_card_and_a_new_one_supersedes_the_last(
    payer: Holder, merchant: Shop
) -> None:
    first = _issue(payer.person_id)
    second = _issue(payer.person_id)
    assert len(first) == 19 and first.startswith("6201") and first.isdigit()
    with db.transaction() as session:
        read = keys.codec(session).read(second)
        row = session.query(PaymentCode).filter_by(slot=read.reference).one()
        assert (row.card_id, row.person_id, row.status) == (payer.card_id, payer.person_id, "live")
    with pytest.raises(CodeUsed):
        _charge(first, merchant, 1200)
    assert _charge(second, merchant, 1200) > 0


def test_a_code_pays_once_and_its_replay_is_refused_as_used(payer: Holder, merchant: Shop) -> None:
    code = _issue(payer.person_id)
    _charge(code, merchant, 1500)
    with pytest.raises(CodeUsed) as replay:
        _charge(code, merchant, 1500)
    assert replay.value.status_code == 409 and replay.value.code == "code_used"


def test_a_code_older_than_its_minute_is_refused_as_expired(
    payer: Holder, merchant: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = time.time() - 90
    monkeypatch.setattr(service.time, "time", lambda: issued)
    code = _issue(payer.person_id)
    monkeypatch.undo()
    with pytest.raises(CodeExpired) as refused:
        _charge(code, merchant, 100)
    assert refused.value.code == "code_expired" and "过期" in refused.value.message


def test_a_guessed_or_mistyped_code_is_refused_naming_the_code_field(
    payer: Holder, merchant: Shop
) -> None:
    code = _issue(payer.person_id)
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    other = PaycodeCodec(key=b"k" * 16).issue(product="01", reference=123456)
    for text in (wrong, other, "6201"):
        with pytest.raises(ValidationFailed) as refused:
            _charge(text, merchant, 100)
        assert [p.field for p in refused.value.fields] == ["code"]


def test_a_lost_card_cannot_pay_and_gets_no_new_code(payer: Holder, merchant: Shop) -> None:
    code = _issue(payer.person_id)
    with acting(SYSTEM), db.transaction() as session:
        card = issuance_service.card_by_id(session, card_id=payer.card_id)
        issuance_service.transition(
            session, card=card, action=Action.report_temporary_loss, actor=CLERK
        )
    ecard_service.forget_states()
    with pytest.raises(CardNotUsable) as refused:
        _charge(code, merchant, 100)
    assert refused.value.status_code == 409 and "挂失" in refused.value.message
    with pytest.raises(CardNotUsable):
        _issue(payer.person_id)


def test_above_the_no_pin_limit_the_ecard_pin_is_required_and_a_wrong_one_counts(
    payer: Holder, merchant: Shop
) -> None:
    code = _issue(payer.person_id)
    over = 50_001
    with pytest.raises(ValidationFailed) as missing:
        _charge(code, merchant, over)
    assert [p.field for p in missing.value.fields] == ["pin"] and "500.00" in missing.value.message
    with pytest.raises(SSCardError) as wrong:
        _charge(code, merchant, over, pin="000000")
    assert wrong.value.code == "pin_incorrect"
    with db.transaction() as session:
        ecard = ecard_service.get_ecard(session, ecard_id=payer.ecard_id)
        assert ecard is not None and ecard.pin_failures == 1
    assert _charge(code, merchant, over, pin=ECARD_PIN) > 0
    with db.transaction() as session:
        ecard = ecard_service.get_ecard(session, ecard_id=payer.ecard_id)
        assert ecard is not None and ecard.pin_failures == 0


def test_the_day_limit_counts_every_charge_of_the_card_and_names_what_is_left(
    payer: Holder, merchant: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSCARD_PAY_DAY_LIMIT_FEN", "3000")
    reset_settings()
    try:
        _charge(_issue(payer.person_id), merchant, 2000)
        with pytest.raises(DayLimitReached) as refused:
            _charge(_issue(payer.person_id), merchant, 1001)
        assert "30.00" in refused.value.message and "10.00" in refused.value.message
        assert _charge(_issue(payer.person_id), merchant, 1000) > 0
    finally:
        monkeypatch.delenv("SSCARD_PAY_DAY_LIMIT_FEN")
        reset_settings()


def _attempt(code: str, merchant: Shop, barrier: threading.Barrier, results: list[str]) -> None:
    barrier.wait()
    try:
        _charge(code, merchant, 100, order=f"C{time.time_ns()}{threading.get_ident()}")
        results.append("charged")
    except SSCardError as refused:
        results.append(refused.code)


def test_eight_merchants_presenting_one_code_at_once_charge_it_exactly_once(
    engine: Engine, payer: Holder, merchant: Shop
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the concurrency test needs PostgreSQL (SSCARD_TEST_DATABASE_URL)")
    for _ in range(3):
        code = _issue(payer.person_id)
        results: list[str] = []
        barrier = threading.Barrier(8)
        threads = [
            threading.Thread(target=_attempt, args=(code, merchant, barrier, results))
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == ["charged"] + ["code_used"] * 7, results
