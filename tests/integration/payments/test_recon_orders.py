"""Reconciliation of real orders: cards paid through the bank peer over HTTP, the bank's
daily file fetched from the peer with differences planted there, imported and resolved;
the acquirer's file checked for what it lists. Committed work (payments run their own
transactions); each test uses its own bank, merchant and cards."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import httpx
import pytest
from peers.acquirer.dailyfile import Forwarded, daily_file
from tests.integration.payments.orders_support import CLERK, Bank, active_card, new_merchant

from sscard import db
from sscard.payments.clearing import rules
from sscard.payments.clearing import service as clearing_service
from sscard.payments.ledger import verify
from sscard.payments.orders import service as orders_service
from sscard.payments.recon import service as recon_service
from sscard.payments.recon.schemas import ResolveIn

pytestmark = pytest.mark.usefixtures("pay_numbers")


def _paid(bank: Bank, merchant: str, bank_code: str, amount: int) -> str:
    card = active_card(bank_code)
    bank.fund(card, 100_000)
    with db.transaction() as session:
        order = orders_service.create_order(
            session,
            actor=CLERK,
            merchant_code=merchant,
            merchant_order_no=f"R{secrets.token_hex(5)}",
            amount_fen=amount,
            category="medicine",
            channel="paycode",
        )
    paid = orders_service.pay_by_card(
        order_no=order.order_no, card_id=card.card_id, channel="paycode", actor=CLERK
    )
    assert paid.status == "paid"
    return order.order_no


def test_the_bank_file_of_real_payments_matches_but_for_the_differences_planted_at_the_bank(
    bank: Bank,
) -> None:
    bank_code, merchant = active_card().bank_code, new_merchant()
    nos = [_paid(bank, merchant, bank_code, amount) for amount in (1_500, 2_500, 3_500)]
    refund_no = f"RF{secrets.token_hex(6)}"
    orders_service.refund(
        order_no=nos[0], amount_fen=500, reason="退货", refund_no=refund_no, actor=CLERK
    )
    unknown = "P20261204" + str(secrets.randbelow(10**11)).zfill(11)
    plants = [
        {"ref": nos[1], "drop": True},
        {"ref": nos[2], "amount_fen": 3_400},
        {"ref": unknown, "amount_fen": 990},
    ]
    for plant in plants:
        assert httpx.put(f"{bank.url}/control/dailyfile/plant", json=plant).status_code == 204
    day = rules.clearing_day(datetime.now(UTC), clearing_service.cutoff())
    try:
        data = httpx.get(
            f"{bank.url}/payments/dailyfile",
            params={"bank_code": bank_code, "day": f"{day:%Y%m%d}"},
        ).content
    finally:
        httpx.delete(f"{bank.url}/control/dailyfile/plant")
    with db.transaction() as session:
        out = recon_service.import_file(session, data=data, actor=CLERK)
        found = recon_service.list_differences(session, actor=CLERK, day=day, merchant=None)
    assert (out.lines, out.differences) == (4, 3)
    mine = {d.ref: d for d in found.items if d.party == bank_code}
    assert {r: d.kind for r, d in mine.items()} == {
        nos[1]: "ours_only",
        nos[2]: "amount_differs",
        unknown: "theirs_only",
    }
    assert mine[nos[1]].merchant_code == merchant
    with db.transaction() as session:
        for d in mine.values():
            recon_service.resolve(
                session,
                diff_id=d.id,
                data=ResolveIn(action="adjust", reason="与银行核对后调账"),
                actor=CLERK,
            )
    with db.transaction() as session:
        assert verify.verify_ledger(session, progress=lambda *_: None).ok


def test_the_acquirer_file_is_checked_for_what_it_lists(bank: Bank) -> None:
    bank_code, merchant = active_card().bank_code, new_merchant()
    no = _paid(bank, merchant, bank_code, 1_200)
    day = rules.clearing_day(datetime.now(UTC), clearing_service.cutoff())
    acquirer = f"ACQ{secrets.token_hex(3).upper()}"
    now = datetime.now(UTC)
    data = daily_file(
        acquirer,
        day,
        [
            Forwarded(no, merchant, 1_200, "done", now),
            Forwarded(f"{no[:-1]}X", merchant, 800, "done", now),
        ],
    )
    with db.transaction() as session:
        out = recon_service.import_file(session, data=data, actor=CLERK)
        found = recon_service.list_differences(session, actor=CLERK, day=day, source="acquirer")
    assert (out.lines, out.matched, out.differences) == (2, 1, 1)
    (diff,) = [d for d in found.items if d.party == acquirer]
    assert (diff.kind, diff.merchant_code, diff.theirs_fen) == ("theirs_only", merchant, 800)
