"""Benefit disbursement against a real database, with the bank's side of the files run in
this process: a file in, checked whole; payment files out, signed; return files applied;
failures parked in suspense, retried to a replacement card or resolved by hand; and the
invariant (money out = confirmed by banks + in suspense) at every step."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.integration.payments.disbursement_world import (
    BankSide,
    active_card,
    bank_side,
    made_card,
)
from tests.support import citizen_id

from sscard.errors import SSCardError, ValidationFailed
from sscard.exchange.errors import PackageRejected
from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType
from sscard.iam.schemas import InstitutionCreate
from sscard.issuance.cards import application_service
from sscard.issuance.cards.schemas import ReplacementIn
from sscard.kit.context import Actor
from sscard.payments.disbursement import bankfiles, failures, repository, service
from sscard.payments.disbursement.errors import DuplicateFile, LineStateConflict
from sscard.payments.disbursement.models import DisbursementBatch
from sscard.payments.disbursement.schemas import LineFilter
from sscard.payments.ledger import service as ledger_service
from sscard.payments.ledger.models import LedgerTransfer
from sscard.payments.ledger.schemas import AccountIn
from sscard.payments.ledger.verify import verify_ledger
from sscard.registry.persons import service as registry_service

pytestmark = pytest.mark.usefixtures("numbers")
HEADER = "社会保障号码,姓名,金额,待遇类型,期别\n"


@pytest.fixture
def officer(clerk: Actor) -> Actor:
    extra = {"payments.disbursement.read", "payments.disbursement.manage", "payments.ledger.read"}
    return replace(clerk, permissions=clerk.permissions | extra)


@pytest.fixture
def benefit_bank(session: Session) -> str:
    """A cooperating bank (its institution code) the cards of these tests are opened at."""
    code = f"BD{secrets.token_hex(3).upper()}"
    iam_service.create_institution(
        session,
        data=InstitutionCreate(
            code=code, name="待遇发放合作银行", type=InstitutionType.bank, region_code="370800"
        ),
    )
    return code


@pytest.fixture
def world(session: Session, tmp_path: Path) -> BankSide:
    return bank_side(session, tmp_path / "peers")


def csv_file(tmp_path: Path, rows: list[str], name: str = "pension.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def run_files(session: Session, bank: BankSide, batch: DisbursementBatch, actor: Actor) -> None:
    """Send the batch's pending lines and apply what the bank returns."""
    for file_no in bankfiles.prepare_files(session, batch=batch, actor=actor):
        assert service.check_invariant(session).ok
        found = repository.file_by_no(session, file_no)
        assert found is not None
        bank.credit(Path(found.path), file_no)
        bankfiles.mark_sent(session, file_no=file_no)
        bankfiles.import_return(session, file_no=file_no, path=bank.return_path(file_no))


def batch_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(DisbursementBatch)) or 0)


def transfers(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(LedgerTransfer)) or 0)


def test_a_file_with_bad_rows_is_refused_whole_naming_each_row(
    session: Session,
    officer: Actor,
    benefit_bank: str,
    person: Callable[..., str],
    tmp_path: Path,
) -> None:
    good = person()
    active_card(session, officer, benefit_bank, good)
    dead = person()
    active_card(session, officer, benefit_bank, dead)
    registry_service.mark_deceased(
        session, id_number=dead, death_date=date(2026, 11, 20), source="civil", actor=officer
    )
    no_card = person()
    before, batches = transfers(session), batch_count(session)
    path = csv_file(
        tmp_path,
        [
            f"{good},测试人员,1850.00,养老金,202612",
            f"{citizen_id()},测试人员,1850.00,养老金,202612",
            f"{no_card},测试人员,1850.00,养老金,202612",
            f"{dead},测试人员,1850.00,养老金,202612",
            f"{good},张三,12.345,养老金,202613",
        ],
    )
    with pytest.raises(ValidationFailed) as refused:
        service.import_file(session, path=path, source_name="pension.csv", actor=officer)
    named = {p.field: p.reason for p in refused.value.fields}
    assert set(named) == {"第2行", "第3行", "第4行", "第5行"}
    assert "不存在" in named["第2行"]
    assert "没有有效的" in named["第3行"]
    assert "死亡" in named["第4行"]
    assert "金额" in named["第5行"] and "期别" in named["第5行"]
    assert "整个文件未导入" in refused.value.message
    assert (transfers(session), batch_count(session)) == (before, batches)


def test_a_name_that_does_not_match_the_registry_is_named(
    session: Session, officer: Actor, benefit_bank: str, person: Callable[..., str], tmp_path: Path
) -> None:
    holder = person()
    active_card(session, officer, benefit_bank, holder)
    path = csv_file(tmp_path, [f"{holder},李四,100.00,补贴,202612"])
    with pytest.raises(ValidationFailed) as refused:
        service.import_file(session, path=path, source_name="x.csv", actor=officer)
    assert refused.value.fields[0].field == "第1行"
    assert "姓名" in refused.value.fields[0].reason


def test_a_pension_is_paid_a_cancelled_card_fails_and_the_retry_pays_the_new_card(
    session: Session,
    officer: Actor,
    benefit_bank: str,
    person: Callable[..., str],
    world: BankSide,
    tmp_path: Path,
) -> None:
    paid_holder, moved_holder = person(), person()
    paid_card = active_card(session, officer, benefit_bank, paid_holder)
    old_card = active_card(session, officer, benefit_bank, moved_holder)
    path = csv_file(
        tmp_path,
        [
            f"{paid_holder},测试人员,1850.00,养老金,202612",
            f"{moved_holder},测试人员,2100.50,养老金,202612",
        ],
    )
    batch = service.import_file(session, path=path, source_name="pension.csv", actor=officer)
    assert (batch.line_count, batch.total_fen, batch.status) == (2, 395050, "validated")
    with pytest.raises(DuplicateFile):
        service.import_file(session, path=path, source_name="again.csv", actor=officer)

    world.desk.failures[old_card.card_number or ""] = "card_cancelled"
    run_files(session, world, batch, officer)
    report = service.check_invariant(session)
    assert report.ok, report.reason
    account = world.books.account_of_card(benefit_bank, paid_card.card_number or "")
    assert account is not None and account.balance_fen == 185000
    totals = service.batch_out(session, batch).totals
    assert (totals.paid_fen, totals.failed_fen, totals.in_suspense_fen) == (185000, 210050, 210050)
    assert batch.status == "returned"
    queue, _ = service.list_lines(
        session, actor=officer, batch_no=None, status=LineFilter.failed, page=1, page_size=50
    )
    failed = [x for x in queue if x.batch_no == batch.batch_no]
    assert [(x.fail_code, x.fail_reason) for x in failed] == [("card_cancelled", "卡已注销")]

    # No replacement yet: nothing to retry.
    assert failures.retry_cancelled_cards(session) == []
    new = application_service.replace(
        session, card_ref=old_card.id, data=ReplacementIn(reason="lost"), actor=officer
    )
    assert failures.retry_cancelled_cards(session) == []  # applied, no account yet
    made_card(session, officer, new)
    assert failures.retry_cancelled_cards(session) == [batch.id]
    run_files(session, world, batch, officer)
    report = service.check_invariant(session)
    assert report.ok, report.reason
    new_account = world.books.account_of_card(benefit_bank, new.card_number or "")
    assert new_account is not None and new_account.balance_fen == 210050
    totals = service.batch_out(session, batch).totals
    assert (totals.paid_fen, totals.in_suspense_fen, totals.failed_lines) == (395050, 0, 0)
    assert batch.status == "closed"
    assert verify_ledger(session, progress=lambda *_: None).ok


def test_a_frozen_account_is_resolved_by_hand_and_the_money_returns_to_the_fund(
    session: Session,
    officer: Actor,
    benefit_bank: str,
    person: Callable[..., str],
    world: BankSide,
    tmp_path: Path,
) -> None:
    holder = person()
    card = active_card(session, officer, benefit_bank, holder)
    path = csv_file(tmp_path, [f"{holder},测试人员,800.00,失业金,202611"])
    batch = service.import_file(session, path=path, source_name="u.csv", actor=officer)
    world.desk.failures[card.card_number or ""] = "account_frozen"
    ledger_service.open_account(session, data=AccountIn(code="benefit-fund"))
    fund_before = ledger_service.get_account(session, code="benefit-fund", actor=officer)
    run_files(session, world, batch, officer)
    line = repository.lines(
        session, batch_id=batch.id, status=None, region_prefix="", offset=0, limit=5
    )[0][0]
    assert (line.status, line.fail_reason) == ("failed", "账户冻结")
    assert failures.retry_cancelled_cards(session) == []  # not a cancelled card
    failures.resolve_line(session, line_id=line.id, note="已转现金发放", actor=officer)
    assert service.check_invariant(session).ok
    fund_after = ledger_service.get_account(session, code="benefit-fund", actor=officer)
    assert fund_after.balance == fund_before.balance
    assert batch.status == "closed"
    with pytest.raises(LineStateConflict):
        failures.resolve_line(session, line_id=line.id, note="再次处理", actor=officer)


def test_a_return_file_that_is_not_the_banks_is_refused_and_nothing_is_posted(
    session: Session,
    officer: Actor,
    benefit_bank: str,
    person: Callable[..., str],
    world: BankSide,
    tmp_path: Path,
) -> None:
    holder = person()
    active_card(session, officer, benefit_bank, holder)
    path = csv_file(tmp_path, [f"{holder},测试人员,300.00,补贴,202612"])
    batch = service.import_file(session, path=path, source_name="s.csv", actor=officer)
    (file_no,) = bankfiles.prepare_files(session, batch=batch, actor=officer)
    found = repository.file_by_no(session, file_no)
    assert found is not None
    before = transfers(session)
    # Our own payment file is signed by the city, not the bank.
    with pytest.raises(PackageRejected):
        bankfiles.import_return(session, file_no=file_no, path=Path(found.path))
    truncated = tmp_path / "cut.zip"
    world.credit(Path(found.path), file_no)
    truncated.write_bytes(world.return_path(file_no).read_bytes()[:-40])
    with pytest.raises(PackageRejected):
        bankfiles.import_return(session, file_no=file_no, path=truncated)
    assert transfers(session) == before
    assert service.check_invariant(session).ok


def test_a_file_that_is_not_a_table_or_holds_no_rows_is_refused_and_nothing_is_stored(
    session: Session, officer: Actor, tmp_path: Path
) -> None:
    before = batch_count(session)
    picture = tmp_path / "photo.csv"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(SSCardError) as refused:
        service.import_file(session, path=picture, source_name="photo.csv", actor=officer)
    assert refused.value.status_code == 422
    empty = csv_file(tmp_path, [], "empty.csv")
    with pytest.raises(ValidationFailed) as nothing:
        service.import_file(session, path=empty, source_name="empty.csv", actor=officer)
    assert "没有发放明细" in nothing.value.message
    assert batch_count(session) == before
