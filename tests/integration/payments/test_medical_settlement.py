"""Medical settlement (就医结算) end to end: the platform asks the medical insurance peer for
the split, books three linked legs in the ledger, takes the cash from the bank peer, and
refunds all three; both peers are served in-process over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.payments.medical_support import (
    CLERK,
    Peers,
    World,
    bank_balance,
    fund,
    holder,
    ledger_clean,
    peers,
    served,
    world,
)
from tests.support import free_port

from sscard import db
from sscard.ecard import service as ecard_service
from sscard.ecard.codes import service as codes_service
from sscard.errors import ValidationFailed
from sscard.payments.ledger import service as ledger_service
from sscard.payments.ledger.schemas import AccountIn
from sscard.payments.medical import chronic_service, settle_service
from sscard.payments.medical import service as reading
from sscard.payments.medical.errors import CashRefused, SettlementStatusConflict
from sscard.payments.medical.schemas import BillIn, ChronicIn, SettlementOut
from sscard.settings import reset_settings

__all__ = ["peers", "served", "world"]

EXAM = {"code": "E001", "name": "胸部CT", "item_class": "examination", "amount_fen": 30000}
DRUG = {"code": "D001", "name": "二甲双胍片", "item_class": "drug_a", "amount_fen": 10000}


def bill(merchant: str, card_number: str, *items: dict[str, Any], **extra: Any) -> BillIn:
    return BillIn.model_validate(
        {
            "merchant_code": merchant,
            "visit_kind": "outpatient",
            "card_number": card_number,
            "items": list(items) or [EXAM],
            **extra,
        }
    )


def account(code: str) -> Any:
    with db.transaction() as session:
        return ledger_service.get_account(session, code=code, actor=CLERK)


def transfer(ref: str) -> Any:
    with db.transaction() as session:
        return ledger_service.get_transfer(session, ref=ref, actor=CLERK)


def test_a_bill_the_pool_and_personal_account_cover_posts_two_legs_and_asks_no_bank(
    peers: Peers, world: World
) -> None:
    who = holder(world)
    id_number, card_number = who.id_number, who.card_number
    peers.enrol(id_number, "employee", balance=50000)
    done = settle_service.settle(data=bill(world.hospital, card_number), actor=CLERK)
    assert done.status == "settled", done.failure_reason
    assert done.number.startswith("M") and len(done.number) == 20
    assert (done.pool_fen, done.personal_fen, done.cash_fen) == (8500, 21500, 0)
    assert done.items[0].deductible_fen == 20000 and done.items[0].ratio_bp == 8500
    pool = transfer(f"med:{done.number}:pool:post")
    assert (pool.debit_account, pool.credit_account, pool.amount) == (
        "medical-pool",
        f"merchant:{world.hospital}",
        8500,
    )
    personal = account(f"medical-personal:{done.person_id}")
    assert personal.balance == peers.insured(id_number)["personal_balance_fen"] == 28500
    assert personal.debits_must_not_exceed_credits
    assert peers.settlement(done.number)["status"] == "settled"
    assert ledger_clean()


def test_a_refund_reverses_every_leg_and_cancels_the_settlement_at_the_medical_system(
    peers: Peers, world: World
) -> None:
    who = holder(world)
    id_number, card_number = who.id_number, who.card_number
    peers.enrol(id_number, "employee", balance=50000)
    done = settle_service.settle(data=bill(world.hospital, card_number), actor=CLERK)
    merchant_before = account(f"merchant:{world.hospital}").balance
    back = settle_service.refund(number=done.number, reason="患者取消检查", actor=CLERK)
    assert back.status == "refunded" and back.refund_reason == "患者取消检查"
    for leg in ("pool", "personal"):
        reversal = transfer(f"med:{done.number}:{leg}:post:rev")
        assert reversal.code == "reversal"
    assert account(f"merchant:{world.hospital}").balance == merchant_before - done.total_fen
    assert account(f"medical-personal:{done.person_id}").balance == 50000
    assert peers.settlement(done.number)["status"] == "cancelled"
    assert peers.insured(id_number)["personal_balance_fen"] == 50000
    with pytest.raises(SettlementStatusConflict):
        settle_service.refund(number=done.number, reason="再退一次", actor=CLERK)
    assert ledger_clean()


def test_a_chronic_qualification_raises_the_ratio_of_that_diseases_items(
    peers: Peers, world: World
) -> None:
    who = holder(world)
    id_number, card_number = who.id_number, who.card_number
    peers.enrol(id_number, "employee", balance=10**6)
    item = {**DRUG, "disease_code": "E11"}
    before = settle_service.presettle(data=bill(world.pharmacy, card_number, item), actor=CLERK)
    qualification = chronic_service.approve(
        data=ChronicIn(
            id_number=id_number, disease_code="E11", disease_name="糖尿病", valid_from="2026-01-01"
        ),
        actor=CLERK,
    )
    assert qualification.status == "active" and qualification.holder_id_number != id_number
    assert peers.insured(id_number)["chronic"][0]["disease_code"] == "E11"
    after = settle_service.settle(data=bill(world.pharmacy, card_number, item), actor=CLERK)
    assert before.items[0].ratio_bp == 9000 and not before.items[0].chronic
    assert after.items[0].ratio_bp == 10000 and after.items[0].chronic
    assert after.pool_fen > before.pool_fen
    revoked = chronic_service.revoke(number=qualification.number, actor=CLERK)
    assert revoked.status == "revoked"
    assert peers.insured(id_number)["chronic"][0]["active"] is False


def test_an_off_site_code_settles_at_the_lower_off_site_ratio_and_is_used_once(
    peers: Peers, world: World
) -> None:
    who = holder(world, ecard=True)
    id_number, copy_id = who.id_number, who.copy_id
    assert copy_id is not None
    peers.enrol(id_number, "employee", balance=10**6)
    with db.transaction() as session:
        copy = ecard_service.get_copy(session, copy_id=copy_id)
        assert copy is not None
        local_code = codes_service.issue_code(session, copy=copy, business=2).code
        offsite_code = codes_service.issue_code(session, copy=copy, business=4).code
    base = {"merchant_code": world.hospital, "visit_kind": "inpatient", "items": [EXAM]}
    local = settle_service.settle(
        data=BillIn.model_validate({**base, "ecard_code": local_code}), actor=CLERK
    )
    away = settle_service.settle(
        data=BillIn.model_validate({**base, "ecard_code": offsite_code}), actor=CLERK
    )
    assert (local.offsite, away.offsite) == (False, True)
    assert local.source == away.source == "ecard"
    assert away.items[0].ratio_bp == local.items[0].ratio_bp - 1000
    with pytest.raises(Exception, match="已使用|used"):
        settle_service.settle(
            data=BillIn.model_validate({**base, "ecard_code": offsite_code}), actor=CLERK
        )


def test_a_person_the_medical_system_does_not_know_leaves_a_failed_settlement_and_no_legs(
    peers: Peers, world: World
) -> None:
    card_number = holder(world).card_number
    failed: SettlementOut = settle_service.settle(
        data=bill(world.hospital, card_number), actor=CLERK
    )
    assert failed.status == "failed"
    assert "未查询到该人员的参保信息" in (failed.failure_reason or "")
    with db.transaction() as session, pytest.raises(Exception, match="不存在"):
        ledger_service.get_transfer(session, ref=f"med:{failed.number}:pool", actor=CLERK)


def test_a_bill_names_one_way_to_find_the_insured_and_a_hospital_it_knows(
    peers: Peers, world: World
) -> None:
    with pytest.raises(ValueError, match="ecard_code"):
        BillIn.model_validate(
            {"merchant_code": world.hospital, "visit_kind": "outpatient", "items": [EXAM]}
        )
    with pytest.raises(ValidationFailed, match="找不到这张社保卡"):
        settle_service.settle(data=bill(world.hospital, "Z99999999"), actor=CLERK)


def test_the_cash_part_is_debited_at_the_bank_and_the_three_legs_are_posted_together(
    peers: Peers, world: World
) -> None:
    who = holder(world)
    peers.enrol(who.id_number, "employee", balance=1000)
    fund(peers, world, who, 100000)
    done = settle_service.settle(data=bill(world.hospital, who.card_number), actor=CLERK)
    assert done.status == "settled", done.failure_reason
    assert (done.pool_fen, done.personal_fen, done.cash_fen) == (8500, 1000, 20500)
    assert bank_balance(peers, world, who) == 100000 - 20500
    legs = {
        "pool:post": ("medical-pool", 8500),
        "personal:post": (f"medical-personal:{done.person_id}", 1000),
        "b:post": (f"bank-clearing:{world.bank}", 20500),
        "m": (f"card:{done.card_id}", 20500),
    }
    for leg, (debit, amount) in legs.items():
        made = transfer(f"med:{done.number}:{leg}")
        assert (made.debit_account, made.amount) == (debit, amount)
    assert account(f"card:{done.card_id}").balance == 0
    assert ledger_clean()

    back = settle_service.refund(number=done.number, reason="重复收费", actor=CLERK)
    assert back.status == "refunded"
    assert bank_balance(peers, world, who) == 100000
    for leg in legs:
        assert transfer(f"med:{done.number}:{leg}:rev").code == "reversal"
    assert account(f"merchant:{world.hospital}").balance >= 0
    assert account(f"medical-personal:{done.person_id}").balance == 1000
    assert peers.insured(who.id_number)["personal_balance_fen"] == 1000
    assert ledger_clean()


def test_a_refused_cash_debit_posts_nothing_and_cancels_the_medical_settlement(
    peers: Peers, world: World
) -> None:
    who = holder(world)
    peers.enrol(who.id_number, "employee", balance=1000)
    fund(peers, world, who, 100)  # not enough for the cash part
    with db.transaction() as session:  # the pool may not be open yet if this test runs first
        ledger_service.open_account(session, data=AccountIn(code="medical-pool"))
    pool_before = account("medical-pool")
    failed = settle_service.settle(data=bill(world.hospital, who.card_number), actor=CLERK)
    assert failed.status == "failed"
    assert "账户余额不足" in (failed.failure_reason or "")
    for leg in ("pool", "personal", "b"):
        assert transfer(f"med:{failed.number}:{leg}:void").kind == "void_pending"
    with db.transaction() as session, pytest.raises(Exception, match="不存在"):
        ledger_service.get_transfer(session, ref=f"med:{failed.number}:m", actor=CLERK)
    pool_after = account("medical-pool")
    assert pool_after.debits_pending == pool_before.debits_pending
    assert pool_after.debits_posted - pool_before.debits_posted <= 1000  # the funding only
    assert account(f"medical-personal:{failed.person_id}").available == 1000
    assert bank_balance(peers, world, who) == 100
    assert peers.settlement(failed.number)["status"] == "cancelled"
    assert peers.insured(who.id_number)["personal_balance_fen"] == 1000
    assert ledger_clean()


def test_a_debit_without_an_answer_stays_paying_until_the_worker_asks_the_bank(
    peers: Peers, world: World
) -> None:
    who = holder(world)
    peers.enrol(who.id_number, "employee", balance=0)
    fund(peers, world, who, 100000)
    peers.bank_fault("debit", "unavailable", times=1)
    waiting = settle_service.settle(data=bill(world.hospital, who.card_number), actor=CLERK)
    assert waiting.status == "paying"
    assert transfer(f"med:{waiting.number}:pool").kind == "pending"
    assert settle_service.resolve_paying() >= 1
    with db.transaction() as session:
        final = reading.get_settlement(session, number=waiting.number, actor=CLERK)
    assert final.status == "failed" and "没有收到" in (final.failure_reason or "")
    assert transfer(f"med:{waiting.number}:pool:void").kind == "void_pending"
    assert peers.settlement(waiting.number)["status"] == "cancelled"
    assert bank_balance(peers, world, who) == 100000
    assert ledger_clean()


def test_a_refund_the_bank_refuses_leaves_the_settlement_settled_and_can_be_asked_again(
    peers: Peers, world: World
) -> None:
    who = holder(world)
    peers.enrol(who.id_number, "employee", balance=0)
    fund(peers, world, who, 100000)
    done = settle_service.settle(data=bill(world.hospital, who.card_number), actor=CLERK)
    assert done.status == "settled" and done.cash_fen > 0
    peers.bank_fault("credit", "refuse", times=1)
    with pytest.raises(CashRefused):
        settle_service.refund(number=done.number, reason="重复收费", actor=CLERK)
    assert peers.settlement(done.number)["status"] == "settled"
    with db.transaction() as session:
        assert reading.get_settlement(session, number=done.number, actor=CLERK).status == "settled"
    back = settle_service.refund(number=done.number, reason="重复收费", actor=CLERK)
    assert back.status == "refunded"
    assert bank_balance(peers, world, who) == 100000
    assert peers.bank_payments(f"{done.number}R1")[0]["status"] == "refused"
    assert peers.bank_payments(f"{done.number}R2")[0]["status"] == "done"
    assert ledger_clean()


def test_an_unreachable_medical_system_leaves_a_failed_settlement_and_no_legs(
    peers: Peers, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    who = holder(world)
    monkeypatch.setenv("SSCARD_MEDICAL_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("SSCARD_PEER_RETRIES", "0")
    reset_settings()
    failed = settle_service.settle(data=bill(world.hospital, who.card_number), actor=CLERK)
    assert failed.status == "failed" and "暂时无法访问" in (failed.failure_reason or "")
    assert (failed.pool_fen, failed.personal_fen, failed.cash_fen) == (0, 0, 0)
