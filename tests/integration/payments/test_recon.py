"""Clearing and reconciliation on a real database: a day cleared once (fees, settlement,
file), a bank file with one planted difference of each kind found and resolved, four-eyes
above the limit, a malformed file refused with nothing recorded, the ledger clean after."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from tests.integration.payments import recon_books as books

from sscard import db
from sscard.crypto.primitives import sm3
from sscard.db import utcnow
from sscard.errors import PermissionDenied, ValidationFailed
from sscard.kit import outbox
from sscard.kit.context import SYSTEM
from sscard.payments.clearing import rules
from sscard.payments.clearing import service as clearing_service
from sscard.payments.clearing.errors import DayNotOver, PaymentsBooksOutOfScope
from sscard.payments.ledger import service as ledger_service
from sscard.payments.ledger import verify
from sscard.payments.ledger.errors import AccountNotFound
from sscard.payments.recon import dailyfile
from sscard.payments.recon import service as recon_service
from sscard.payments.recon.dailyfile import Header, Record
from sscard.payments.recon.errors import (
    DifferenceStateConflict,
    ImportConflict,
    SecondOperatorRequired,
)
from sscard.payments.recon.models import ReconDifference, ReconImport
from sscard.payments.recon.schemas import ResolveIn
from sscard.settings import reset_settings

CLERK = books.operator("甲")
SUPERVISOR = books.operator("乙", approve=True)
CLERK_WHO_APPROVES = books.operator("甲", approve=True)
OUTSIDER = replace(CLERK, id="op-hall", institution_code="HALL-RC")


def _today() -> date:
    return rules.clearing_day(utcnow(), clearing_service.cutoff())


@pytest.fixture
def after_cutoff(session: Session, monkeypatch: pytest.MonkeyPatch) -> date:
    """Today's clearing day, not yet cleared in this test's transaction (whatever other
    tests committed), with the clearing clock just past its cut-off."""
    day = _today()
    for table in ("payments_clearing_line", "payments_clearing_day"):
        session.execute(text(f"DELETE FROM {table} WHERE day = :d"), {"d": day})  # noqa: S608
    end = rules.window(day, clearing_service.cutoff())[1]
    monkeypatch.setattr(clearing_service, "utcnow", lambda: end + timedelta(seconds=1))
    return day


def _balance(session: Session, code: str) -> int:
    return ledger_service.get_account(session, code=code, actor=SYSTEM).balance


def _clean(session: Session) -> bool:
    return verify.verify_ledger(session, progress=lambda *_: None).ok


def test_a_day_is_cleared_once_net_of_fees_with_a_settlement_file_and_its_manifest(
    session: Session, after_cutoff: date
) -> None:
    bank, merchant = f"B{books.tag()}", books.merchant(session, fee_bp=38)
    for amount in (10_000, 2_550, 1_234):
        books.pay(session, no=books.order_no(), bank=bank, merchant=merchant, amount=amount)
    books.pay(session, no=books.order_no(), bank=bank, merchant=merchant, amount=999, ok=False)
    books.refund(session, refund_no=f"R{books.tag()}", bank=bank, merchant=merchant, amount=784)

    out = clearing_service.run_day(session, day=after_cutoff, actor=CLERK)
    line = next(m for m in out.merchants if m.party == merchant)
    net = 10_000 + 2_550 + 1_234 - 784
    assert (line.pay_count, line.pay_fen, line.refund_fen) == (3, 13_784, 784)
    assert line.fee_fen == (net * 38 + 5_000) // 10_000 == 49
    assert line.net_fen == net - 49
    position = next(b for b in out.banks if b.party == bank)
    assert (position.pay_count, position.net_fen) == (3, net)
    assert _balance(session, f"merchant:{merchant}") == 0

    folder = clearing_service.settlement_dir()
    data = (folder / out.file_name).read_bytes()
    manifest = json.loads((folder / out.file_name.replace(".txt", ".manifest.json")).read_bytes())
    assert manifest["sm3"] == sm3(data).hex() == out.file_sm3
    assert f"|{merchant}|仁和大药房任城店|" in data.decode()

    transfers = ledger_service.list_transfers(
        session, actor=SYSTEM, account=f"merchant:{merchant}", page=1, page_size=50
    ).total
    again = clearing_service.run_day(session, day=after_cutoff, actor=CLERK)
    assert again == out
    assert (
        ledger_service.list_transfers(
            session, actor=SYSTEM, account=f"merchant:{merchant}", page=1, page_size=50
        ).total
        == transfers
    )
    assert _clean(session)


def test_a_day_not_yet_over_is_not_cleared_and_other_institutions_may_not(
    session: Session,
) -> None:
    with pytest.raises(DayNotOver):
        clearing_service.run_day(session, day=_today(), actor=CLERK)
    with pytest.raises(PaymentsBooksOutOfScope):
        clearing_service.run_day(session, day=_today(), actor=OUTSIDER)


def _bank_file(bank: str, records: list[Record]) -> bytes:
    return dailyfile.write(Header("bank", bank, _today()), records)


def _at() -> str:
    return dailyfile.utc_text(utcnow())


def test_one_planted_difference_of_each_kind_is_found_and_each_is_resolved(
    session: Session,
) -> None:
    bank, merchant = f"B{books.tag()}", books.merchant(session)
    nos = [books.order_no() for _ in range(5)]
    for no in nos[:4]:
        books.pay(session, no=no, bank=bank, merchant=merchant, amount=1_000)
    refused_here = books.order_no()
    books.pay(session, no=refused_here, bank=bank, merchant=merchant, amount=500, ok=False)
    at = _at()
    data = _bank_file(
        bank,
        [
            Record(nos[0], "debit", 1_000, "done", at),  # agrees
            Record(nos[2], "debit", 1_100, "done", at),  # amount differs
            Record(nos[3], "debit", 1_000, "refused", at),  # status differs
            Record(nos[4], "debit", 800, "done", at),  # theirs only
            Record(refused_here, "debit", 500, "refused", at),  # agrees: no money moved
        ],
    )  # nos[1] is missing: ours only
    out = recon_service.import_file(session, data=data, actor=CLERK)
    assert (out.lines, out.differences, out.matched) == (5, 4, 2)
    found = recon_service.list_differences(session, actor=CLERK, day=_today(), source="bank")
    mine = {d.ref: d for d in found.items if d.party == bank}
    assert {ref: d.kind for ref, d in mine.items()} == {
        nos[1]: "ours_only",
        nos[2]: "amount_differs",
        nos[3]: "status_differs",
        nos[4]: "theirs_only",
    }
    before = _balance(session, "suspense") if _has(session, "suspense") else 0
    for d in mine.values():
        done = recon_service.resolve(
            session,
            diff_id=d.id,
            data=ResolveIn(action="adjust", reason="核对银行流水后调账"),
            actor=CLERK,
        )
        assert done.state == "resolved" and done.transfer_ref == f"rcn:{d.id}"
    # from the merchant: ours only 1000, status 1000; from the bank: +100, theirs only 800
    assert _balance(session, "suspense") - before == 1_000 + 1_000 + 100 + 800
    assert _balance(session, f"merchant:{merchant}") == 4_000 - 2_000
    with pytest.raises(DifferenceStateConflict):
        recon_service.resolve(
            session,
            diff_id=mine[nos[1]].id,
            data=ResolveIn(action="accept", reason="重复处理"),
            actor=CLERK,
        )
    assert _clean(session)


def _has(session: Session, code: str) -> bool:
    try:
        ledger_service.get_account(session, code=code, actor=SYSTEM)
    except AccountNotFound:
        return False
    return True


def test_an_adjustment_above_the_limit_waits_for_a_second_operator_who_is_not_the_first(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSCARD_RECON_FOUR_EYES_FEN", "5000")
    reset_settings()
    try:
        bank, merchant = f"B{books.tag()}", books.merchant(session)
        no = books.order_no()
        books.pay(session, no=no, bank=bank, merchant=merchant, amount=8_000)
        recon_service.import_file(session, data=_bank_file(bank, []), actor=CLERK)
        diff = recon_service.list_differences(session, actor=CLERK, day=_today(), merchant=merchant)
        (d,) = diff.items
        waiting = recon_service.resolve(
            session, diff_id=d.id, data=ResolveIn(action="adjust", reason="银行无此笔"), actor=CLERK
        )
        assert (waiting.state, waiting.adjust_fen, waiting.transfer_ref) == (
            "awaiting_approval",
            8_000,
            None,
        )
        assert _balance(session, f"merchant:{merchant}") == 8_000
        with pytest.raises(SecondOperatorRequired):
            recon_service.approve(session, diff_id=d.id, actor=CLERK_WHO_APPROVES)
        approved = recon_service.approve(session, diff_id=d.id, actor=SUPERVISOR)
        assert (approved.state, approved.approved_by) == ("resolved", SUPERVISOR.id)
        assert _balance(session, f"merchant:{merchant}") == 0
        assert _clean(session)
    finally:
        monkeypatch.delenv("SSCARD_RECON_FOUR_EYES_FEN")
        reset_settings()


def test_a_truncated_file_is_refused_naming_the_line_and_nothing_is_recorded(
    session: Session,
) -> None:
    bank = f"B{books.tag()}"
    data = _bank_file(bank, [Record(books.order_no(), "debit", 1_000, "done", _at())] * 1)
    imports = session.scalar(select(func.count()).select_from(ReconImport))
    diffs = session.scalar(select(func.count()).select_from(ReconDifference))
    with pytest.raises(ValidationFailed) as refused:
        recon_service.import_file(session, data=data[:-30], actor=CLERK)
    assert refused.value.fields[0].field == "file" and "第 3 行" in refused.value.message
    assert session.scalar(select(func.count()).select_from(ReconImport)) == imports
    assert session.scalar(select(func.count()).select_from(ReconDifference)) == diffs


def test_the_same_file_imports_once_and_another_file_for_that_day_is_refused(
    session: Session,
) -> None:
    bank = f"B{books.tag()}"
    first = _bank_file(bank, [Record(books.order_no(), "debit", 1_000, "done", _at())])
    one = recon_service.import_file(session, data=first, actor=CLERK)
    assert recon_service.import_file(session, data=first, actor=CLERK).id == one.id
    with pytest.raises(ImportConflict):
        recon_service.import_file(session, data=_bank_file(bank, []), actor=CLERK)
    with pytest.raises(PermissionDenied):
        recon_service.import_file(session, data=first, actor=OUTSIDER)


def test_two_clerks_importing_one_new_file_at_once_get_one_import(engine: Engine) -> None:
    bank = f"B{books.tag()}"
    data = _bank_file(bank, [Record(books.order_no(), "debit", 700, "done", _at())])
    second: list[int] = []
    failures: list[BaseException] = []

    def import_meanwhile() -> None:
        try:
            with db.transaction() as other:
                second.append(recon_service.import_file(other, data=data, actor=CLERK).id)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    with db.transaction() as session:
        first = recon_service.import_file(session, data=data, actor=CLERK)
        clerk = threading.Thread(target=import_meanwhile)
        clerk.start()
        time.sleep(0.5)  # the other clerk reads no import yet and waits to write its own
    clerk.join(timeout=30)
    assert failures == [] and second == [first.id]
    with db.transaction() as session:
        count = select(func.count()).select_from(ReconImport).where(ReconImport.party == bank)
        assert session.scalar(count) == 1


def test_the_day_report_gives_each_merchant_its_figures_and_differences(
    session: Session, after_cutoff: date
) -> None:
    bank, merchant = f"B{books.tag()}", books.merchant(session, fee_bp=60)
    no = books.order_no()
    books.pay(session, no=no, bank=bank, merchant=merchant, amount=20_000)
    books.pay(session, no=books.order_no(), bank=bank, merchant=merchant, amount=5_000)
    clearing_service.run_day(session, day=after_cutoff, actor=CLERK)
    recon_service.import_file(
        session, data=_bank_file(bank, [Record(no, "debit", 20_000, "done", _at())]), actor=CLERK
    )
    report = recon_service.day_report(session, day=after_cutoff, actor=CLERK)
    row = next(r for r in report.merchants if r.merchant_code == merchant)
    assert (row.pay_count, row.pay_fen, row.fee_fen, row.net_fen) == (2, 25_000, 150, 24_850)
    assert (row.differences, row.open_differences) == (1, 1)
    assert report.cleared and report.differences_by_kind.get("ours_only", 0) >= 1


def test_the_workers_housekeeping_clears_the_day_just_ended_once(
    session: Session, after_cutoff: date
) -> None:
    bank, merchant = f"B{books.tag()}", books.merchant(session, fee_bp=0)
    books.pay(session, no=books.order_no(), bank=bank, merchant=merchant, amount=6_600)
    chore = outbox.housekeeping_jobs()["payments-clearing-day"]
    assert chore(session) == 1
    assert chore(session) == 0
    day = clearing_service.get_day(session, day=after_cutoff, actor=SYSTEM)
    assert next(m for m in day.merchants if m.party == merchant).net_fen == 6_600
    assert _balance(session, f"merchant:{merchant}") == 0
