"""Many connections debiting one no-overdraw card account at once (PostgreSQL): the
account never goes below zero and every accepted payment is counted."""

from __future__ import annotations

import secrets
import threading

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from sscard import db
from sscard.kit.context import SYSTEM
from sscard.payments.ledger import service, verify
from sscard.payments.ledger.errors import TransferRefused
from sscard.payments.ledger.schemas import AccountIn, TransferIn

THREADS = 8
ATTEMPTS = 15
PRICE = 100
FUNDED = 50 * PRICE


def test_concurrent_payments_never_overdraw_a_card_and_every_accepted_one_is_counted(
    engine: Engine,
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the concurrency test needs PostgreSQL (SSCARD_TEST_DATABASE_URL)")
    tag = secrets.token_hex(4)
    card, bank = f"card:{tag}", f"bank-clearing:B{tag}"
    # Merchants opened before and after the card: the locks are taken in both orders.
    merchants = [f"merchant:A{tag}", f"merchant:Z{tag}"]
    with db.transaction() as session:
        for code in (merchants[0], card, merchants[1], bank):
            service.open_account(session, data=AccountIn(code=code))
        top_up = TransferIn(
            ref=f"top-{tag}", debit_account=bank, credit_account=card, amount=FUNDED, code="top_up"
        )
        service.post_transfer(session, transfer=top_up)
    accepted: list[str] = []
    refused: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def pay(worker: int) -> None:
        for attempt in range(ATTEMPTS):
            ref = f"pay-{tag}-{worker}-{attempt}"
            payment = TransferIn(
                ref=ref,
                debit_account=card,
                credit_account=merchants[(worker + attempt) % 2],
                amount=PRICE,
                code="payment",
            )
            try:
                with db.transaction() as session:
                    service.post_transfer(session, transfer=payment)
                outcome = accepted
            except TransferRefused:
                outcome = refused
            except BaseException as exc:  # reported by the main thread
                with lock:
                    failures.append(exc)
                return
            with lock:
                outcome.append(ref)

    workers = [threading.Thread(target=pay, args=(n,)) for n in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert failures == []
    assert len(accepted) == FUNDED // PRICE
    assert len(refused) == THREADS * ATTEMPTS - len(accepted)
    with db.transaction() as session:
        account = service.get_account(session, code=card, actor=SYSTEM)
        paid = sum(
            service.get_account(session, code=m, actor=SYSTEM).credits_posted for m in merchants
        )
        report = verify.verify_ledger(session, progress=lambda *_: None)
    assert (account.debits_posted, account.credits_posted, account.available) == (FUNDED, FUNDED, 0)
    assert paid == len(accepted) * PRICE
    assert report.ok, report


def test_raw_concurrent_inserts_that_skip_the_service_still_cannot_overdraw_a_card(
    engine: Engine,
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the concurrency test needs PostgreSQL (SSCARD_TEST_DATABASE_URL)")
    tag = secrets.token_hex(4)
    card, merchant, bank = f"card:{tag}", f"merchant:M{tag}", f"bank-clearing:B{tag}"
    with db.transaction() as session:
        ids = {
            code: service.open_account(session, data=AccountIn(code=code)).id
            for code in (card, merchant, bank)
        }
        top_up = TransferIn(
            ref=f"top-{tag}", debit_account=bank, credit_account=card, amount=FUNDED, code="top_up"
        )
        service.post_transfer(session, transfer=top_up)
    insert = text(
        "INSERT INTO payments_ledger_transfer (ref, kind, debit_account_id, credit_account_id,"
        " amount, code, reason, created_at)"
        " VALUES (:ref, 'posted', :debit, :credit, :amount, 'payment', '', now())"
    )
    accepted = []
    lock = threading.Lock()

    def pay(worker: int) -> None:
        for attempt in range(ATTEMPTS):
            values = {"debit": ids[card], "credit": ids[merchant], "amount": PRICE}
            try:
                with engine.begin() as connection:
                    connection.execute(insert, {**values, "ref": f"raw-{tag}-{worker}-{attempt}"})
            except IntegrityError:
                continue
            with lock:
                accepted.append(attempt)

    workers = [threading.Thread(target=pay, args=(n,)) for n in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    with db.transaction() as session:
        account = service.get_account(session, code=card, actor=SYSTEM)
    assert len(accepted) == FUNDED // PRICE
    assert (account.debits_posted, account.available) == (FUNDED, 0)


def test_verify_reads_one_snapshot_while_payments_commit_meanwhile(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("on SQLite a unit of work holds the write lock: nothing commits meanwhile")
    tag = secrets.token_hex(4)
    card, merchant, bank = f"card:{tag}", f"merchant:M{tag}", f"bank-clearing:B{tag}"
    with db.transaction() as session:
        for code in (card, merchant, bank):
            service.open_account(session, data=AccountIn(code=code))
        service.post_transfer(
            session,
            transfer=TransferIn(
                ref=f"top-{tag}", debit_account=bank, credit_account=card, amount=900, code="top_up"
            ),
        )
    paid: list[str] = []

    def pay_between_the_two_passes(stage: str, done: int, total: int) -> None:
        # The transfers have been replayed; a payment commits before the accounts are read.
        if stage == "transfers" and done == total and not paid:
            with db.transaction() as other:
                ref = f"pay-{tag}"
                service.post_transfer(
                    other,
                    transfer=TransferIn(
                        ref=ref,
                        debit_account=card,
                        credit_account=merchant,
                        amount=300,
                        code="payment",
                    ),
                )
            paid.append(ref)

    with db.transaction() as session:
        report = verify.verify_ledger(session, progress=pay_between_the_two_passes)
    assert paid, "the payment in the middle of the check did not run"
    assert report.ok, report.reason
    with db.transaction() as session:
        assert verify.verify_ledger(session, progress=lambda *_: None).ok
        assert service.get_account(session, code=card, actor=SYSTEM).balance == 600
