"""The ledger on a real database (SQLite always, PostgreSQL when configured): idempotent
transfers, two-phase transfers, linked chains, reversals, and the invariants the database
keeps by itself when raw SQL tries to break them."""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from sscard.db import utcnow
from sscard.errors import PermissionDenied
from sscard.kit import outbox
from sscard.kit.context import SYSTEM, Actor, ActorKind
from sscard.payments.ledger import service, verify
from sscard.payments.ledger.errors import AccountNotFound, RefReused, TransferRefused
from sscard.payments.ledger.rules import TransferKind
from sscard.payments.ledger.schemas import AccountIn, TransferIn


def _tag() -> str:
    return secrets.token_hex(4)


def _accounts(session: Session) -> tuple[str, str, str]:
    """A card account, a merchant and the bank clearing account, freshly opened."""
    tag = _tag()
    codes = (f"card:{tag}", f"merchant:M{tag}", f"bank-clearing:B{tag}")
    for code in codes:
        service.open_account(session, data=AccountIn(code=code))
    return codes


def _t(ref: str, debit: str, credit: str, amount: int, **more: object) -> TransferIn:
    return TransferIn.model_validate(
        {
            "ref": ref,
            "debit_account": debit,
            "credit_account": credit,
            "amount": amount,
            "code": "payment",
            **more,
        }
    )


def _totals(session: Session, code: str) -> tuple[int, int, int, int]:
    a = service.get_account(session, code=code, actor=SYSTEM)
    return a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted


def _ok(session: Session) -> bool:
    return verify.verify_ledger(session, progress=lambda *_: None).ok


def test_a_top_up_and_a_payment_move_the_totals_and_keep_the_books_balanced(
    session: Session,
) -> None:
    card, merchant, bank = _accounts(session)
    service.post_transfer(session, transfer=_t(f"top-{_tag()}", bank, card, 10_000))
    service.post_transfer(session, transfer=_t(f"pay-{_tag()}", card, merchant, 2_550))
    assert _totals(session, card) == (0, 2_550, 0, 10_000)
    assert _totals(session, merchant) == (0, 0, 0, 2_550)
    assert service.get_account(session, code=card, actor=SYSTEM).balance == 7_450
    assert _ok(session)


def test_a_retry_with_the_same_ref_returns_the_same_transfer_and_moves_nothing(
    session: Session,
) -> None:
    card, _merchant, bank = _accounts(session)
    ref = f"top-{_tag()}"
    first = service.post_transfer(session, transfer=_t(ref, bank, card, 500))
    again = service.post_transfer(session, transfer=_t(ref, bank, card, 500))
    assert again.id == first.id
    assert _totals(session, card) == (0, 0, 0, 500)


def test_the_same_ref_with_other_content_is_refused(session: Session) -> None:
    card, _merchant, bank = _accounts(session)
    ref = f"top-{_tag()}"
    service.post_transfer(session, transfer=_t(ref, bank, card, 500))
    with pytest.raises(RefReused, match=ref):
        service.post_transfer(session, transfer=_t(ref, bank, card, 501))
    assert _totals(session, card) == (0, 0, 0, 500)


def test_a_card_account_cannot_spend_more_than_it_holds(session: Session) -> None:
    card, merchant, bank = _accounts(session)
    service.post_transfer(session, transfer=_t(f"top-{_tag()}", bank, card, 100))
    with pytest.raises(TransferRefused, match="余额不足"):
        service.post_transfer(session, transfer=_t(f"pay-{_tag()}", card, merchant, 101))
    assert _totals(session, card) == (0, 0, 0, 100)


def test_a_pending_payment_posted_in_part_releases_the_rest(session: Session) -> None:
    card, merchant, bank = _accounts(session)
    service.post_transfer(session, transfer=_t(f"top-{_tag()}", bank, card, 1_000))
    hold = f"hold-{_tag()}"
    service.post_transfer(
        session, transfer=_t(hold, card, merchant, 800, kind="pending", timeout_seconds=600)
    )
    assert _totals(session, card) == (800, 0, 0, 1_000)
    assert service.get_account(session, code=card, actor=SYSTEM).available == 200
    with pytest.raises(TransferRefused, match="余额不足"):
        service.post_transfer(session, transfer=_t(f"pay-{_tag()}", card, merchant, 201))
    post = _t(f"post-{_tag()}", card, merchant, 600, kind="post_pending", pending_ref=hold)
    service.post_transfer(session, transfer=post)
    assert _totals(session, card) == (0, 600, 0, 1_000)
    assert _totals(session, merchant) == (0, 0, 0, 600)
    again = _t(f"post-{_tag()}", card, merchant, 100, kind="post_pending", pending_ref=hold)
    with pytest.raises(TransferRefused, match="已完成或已撤销"):
        service.post_transfer(session, transfer=again)
    assert _ok(session)


def test_a_voided_pending_payment_releases_everything(session: Session) -> None:
    card, merchant, bank = _accounts(session)
    service.post_transfer(session, transfer=_t(f"top-{_tag()}", bank, card, 1_000))
    hold = f"hold-{_tag()}"
    service.post_transfer(session, transfer=_t(hold, card, merchant, 800, kind="pending"))
    void = _t(f"void-{_tag()}", card, merchant, 800, kind="void_pending", pending_ref=hold)
    service.post_transfer(session, transfer=void)
    assert _totals(session, card) == (0, 0, 0, 1_000)
    assert _totals(session, merchant) == (0, 0, 0, 0)


def test_a_pending_payment_past_its_timeout_cannot_be_posted_and_is_voided_by_the_worker(
    session: Session,
) -> None:
    card, merchant, bank = _accounts(session)
    service.post_transfer(session, transfer=_t(f"top-{_tag()}", bank, card, 1_000))
    hold = f"hold-{_tag()}"
    service.post_transfer(
        session, transfer=_t(hold, card, merchant, 300, kind="pending", timeout_seconds=1)
    )
    later = utcnow() + timedelta(seconds=5)
    assert service.void_expired(session, now=later) >= 1
    assert _totals(session, card) == (0, 0, 0, 1_000)
    post = _t(f"post-{_tag()}", card, merchant, 300, kind="post_pending", pending_ref=hold)
    with pytest.raises(TransferRefused):
        service.post_transfer(session, transfer=post)


def test_a_linked_chain_with_one_refused_transfer_leaves_no_trace(session: Session) -> None:
    card, merchant, bank = _accounts(session)
    tag = _tag()
    chain = [
        _t(f"a-{tag}", bank, card, 1_000),
        _t(f"b-{tag}", card, merchant, 900),
        _t(f"c-{tag}", card, merchant, 200),  # 100 short: the whole chain is refused
    ]
    with pytest.raises(TransferRefused) as refused:
        service.post_transfers(session, transfers=chain)
    assert refused.value.index == 2
    assert _totals(session, card) == (0, 0, 0, 0)
    with pytest.raises(AccountNotFound):
        service.post_transfers(
            session, transfers=[*chain[:2], _t(f"d-{tag}", card, f"nowhere-{tag}", 1)]
        )
    assert (
        service.list_transfers(session, actor=SYSTEM, account=card, page=1, page_size=10).items
        == []
    )


def test_a_linked_chain_refused_by_the_database_itself_leaves_no_trace(
    session: Session,
) -> None:
    card, merchant, bank = _accounts(session)
    tag = _tag()
    service.post_transfer(session, transfer=_t(f"x-{tag}", bank, card, 50))
    chain = [_t(f"a-{tag}", bank, merchant, 70), _t(f"x-{tag}", bank, merchant, 1)]
    with pytest.raises(RefReused):
        service.post_transfers(session, transfers=chain)
    assert _totals(session, merchant) == (0, 0, 0, 0)


def test_a_payment_is_undone_by_a_reversal_once(session: Session) -> None:
    card, merchant, bank = _accounts(session)
    tag = _tag()
    service.post_transfer(session, transfer=_t(f"top-{tag}", bank, card, 1_000))
    service.post_transfer(session, transfer=_t(f"pay-{tag}", card, merchant, 400))
    reversal = service.reverse_transfer(
        session, ref=f"pay-{tag}", reversal_ref=f"rev-{tag}", reason="收银员输错金额"
    )
    assert (reversal.kind, reversal.amount) == (TransferKind.posted.value, 400)
    assert _totals(session, card) == (0, 400, 0, 1_400)
    retried = service.reverse_transfer(
        session, ref=f"pay-{tag}", reversal_ref=f"rev-{tag}", reason="收银员输错金额"
    )
    assert retried.id == reversal.id
    with pytest.raises(TransferRefused, match="已冲正"):
        service.reverse_transfer(session, ref=f"pay-{tag}", reversal_ref=f"rev2-{tag}", reason="")
    shown = service.get_transfer(session, ref=f"rev-{tag}", actor=SYSTEM)
    assert shown.reverses_ref == f"pay-{tag}"


def test_the_database_refuses_to_change_or_delete_a_posted_transfer(session: Session) -> None:
    card, _merchant, bank = _accounts(session)
    ref = f"top-{_tag()}"
    service.post_transfer(session, transfer=_t(ref, bank, card, 500))
    for statement in (
        "UPDATE payments_ledger_transfer SET amount = 1 WHERE ref = :ref",
        "DELETE FROM payments_ledger_transfer WHERE ref = :ref",
    ):
        with pytest.raises(DBAPIError, match="immutable"), session.begin_nested():
            session.execute(text(statement), {"ref": ref})
    assert _totals(session, card) == (0, 0, 0, 500)


def test_the_database_refuses_a_raw_insert_that_overdraws_a_card(session: Session) -> None:
    card, merchant, _bank = _accounts(session)
    found = session.execute(
        text("SELECT code, id FROM payments_ledger_account WHERE code IN (:a, :b)"),
        {"a": card, "b": merchant},
    )
    ids = {row[0]: row[1] for row in found}
    with pytest.raises(DBAPIError), session.begin_nested():
        session.execute(
            text(
                "INSERT INTO payments_ledger_transfer (ref, kind, debit_account_id,"
                " credit_account_id, amount, code, reason, created_at)"
                " VALUES (:ref, 'posted', :d, :c, 1, 'payment', '', CURRENT_TIMESTAMP)"
            ),
            {"ref": f"raw-{_tag()}", "d": ids[card], "c": ids[merchant]},
        )
    assert _totals(session, card) == (0, 0, 0, 0)


def test_the_database_refuses_a_post_that_does_not_match_its_pending_transfer(
    session: Session,
) -> None:
    card, merchant, bank = _accounts(session)
    service.post_transfer(session, transfer=_t(f"top-{_tag()}", bank, card, 1_000))
    hold = service.post_transfer(
        session, transfer=_t(f"hold-{_tag()}", card, merchant, 300, kind="pending")
    )
    with pytest.raises(DBAPIError), session.begin_nested():
        session.execute(
            text(
                "INSERT INTO payments_ledger_transfer (ref, kind, debit_account_id,"
                " credit_account_id, amount, code, reason, pending_id, created_at)"
                " VALUES (:ref, 'post_pending', :d, :c, 301, 'payment', '', :p,"
                " CURRENT_TIMESTAMP)"
            ),
            {
                "ref": f"raw-{_tag()}",
                "d": hold.debit_account_id,
                "c": hold.credit_account_id,
                "p": hold.id,
            },
        )
    assert _totals(session, card) == (300, 0, 0, 1_000)


def test_verify_names_the_account_whose_totals_were_tampered_with(session: Session) -> None:
    card, merchant, bank = _accounts(session)
    service.post_transfer(session, transfer=_t(f"top-{_tag()}", bank, card, 1_000))
    service.post_transfer(session, transfer=_t(f"pay-{_tag()}", card, merchant, 300))
    assert _ok(session)
    session.execute(
        text(
            "UPDATE payments_ledger_account SET credits_posted = credits_posted + 5000"
            " WHERE code = :code"
        ),
        {"code": merchant},
    )
    report = verify.verify_ledger(session, progress=lambda *_: None)
    assert (report.ok, report.broken_account) == (False, merchant)
    assert "贷方已入账 记录为 5300" in (report.reason or "")


def test_an_account_code_must_name_a_known_kind(session: Session) -> None:
    from sscard.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="code"):
        service.open_account(session, data=AccountIn(code="wallet:1"))


def test_only_the_platforms_operators_read_the_ledger(session: Session) -> None:
    bank_agent = Actor(
        kind=ActorKind.operator,
        id="b1",
        name="银行经办",
        institution_code="BANK01",
        permissions=frozenset({"payments.ledger.read"}),
    )
    with pytest.raises(PermissionDenied):
        service.list_accounts(session, actor=bank_agent, kind=None, page=1, page_size=10)


def test_the_workers_housekeeping_voids_a_hold_once_its_timeout_has_passed(
    session: Session,
) -> None:
    card, merchant, bank = _accounts(session)
    service.post_transfer(session, transfer=_t(f"top-{_tag()}", bank, card, 1_000))
    hold = f"hold-{_tag()}"
    service.post_transfer(
        session, transfer=_t(hold, card, merchant, 300, kind="pending", timeout_seconds=1)
    )
    time.sleep(1.2)
    outbox.housekeeping_jobs()["payments-ledger-void-expired"](session)
    assert _totals(session, card) == (0, 0, 0, 1_000)
    assert (
        service.list_transfers(session, actor=SYSTEM, account=card, page=1, page_size=1)
        .items[0]
        .pending_ref
        == hold
    )
