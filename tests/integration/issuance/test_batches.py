"""Batch card making through the province, the bank and the vendor, run in this process.

Every test works in a city of its own (a region code no other test uses), so that the
committed cards of one test never enter another's batch.
"""

from __future__ import annotations

import secrets
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from peers.bank.batch import Bank, BankConfig, FailRule
from peers.province.batch import Province, ProvinceConfig
from peers.vendor.batch import Vendor, VendorConfig
from sqlalchemy import Engine, func, select
from tests.support import citizen_id, person_body

from sscard import db
from sscard.crypto import keyring, pem
from sscard.crypto import service as crypto_service
from sscard.exchange.errors import PackageRejected, PeerUnavailable
from sscard.exchange.files import service as exchange_files
from sscard.exchange.files.formats import ACCOUNT_OPENING, CARD_RESULT
from sscard.exchange.files.manifest import ROWS, key_verifier
from sscard.exchange.files.partykeys import trusted_keys
from sscard.exchange.files.reader import open_package
from sscard.exchange.files.writer import PackageWriter
from sscard.exchange.mapping import service as exchange_mapping
from sscard.exchange.mapping.models import EntityMapping
from sscard.iam import service as iam_service
from sscard.iam.catalog import InstitutionType
from sscard.iam.schemas import InstitutionCreate
from sscard.issuance.batches import errors as batch_errors
from sscard.issuance.batches import export as batch_export
from sscard.issuance.batches import province as batch_province
from sscard.issuance.batches import result_import
from sscard.issuance.batches import service as batch_service
from sscard.issuance.batches.models import Batch, Failure
from sscard.issuance.cards import application_service, number_service
from sscard.issuance.cards.models import Box, Card, CardEvent
from sscard.issuance.cards.schemas import ApplicationIn, RangeIn
from sscard.kit.context import Actor, ActorKind
from sscard.registry import fakes
from sscard.registry.bulk import service as registry_bulk
from sscard.registry.persons import service as registry_service
from sscard.registry.persons.schemas import PersonCreate
from sscard.registry.photos import portraits
from sscard.registry.photos import service as registry_photos
from sscard.registry.units import service as registry_units
from sscard.registry.units.schemas import EmployerCreate
from sscard.settings import reset_settings

PERMISSIONS = frozenset(
    {
        "registry.read",
        "registry.write",
        "registry.unmask",
        "registry.photo.read",
        "issuance.read",
        "issuance.apply",
        "issuance.manage",
        "issuance.batch",
        "issuance.ranges",
    }
)
CLERK = Actor(
    kind=ActorKind.operator,
    id="batch-clerk",
    name="制卡专员",
    institution_code="PLATFORM",
    institution_type="hrss_bureau",
    region_code="370800",
    permissions=PERMISSIONS,
)


@dataclass
class City:
    """A city of its own with a bank, a number range, a province, a bank and a vendor."""

    region: str
    bank_code: str
    root: Path
    province: Province
    bank: Bank
    vendor: Vendor
    employer_id: int
    employer_credit_code: str

    def apply(self, count: int, *, employer: bool = True, digit: str | None = None) -> list[str]:
        """Register ``count`` persons with photos and apply for their cards; ID numbers."""
        numbers = []
        with db.transaction() as session:
            for _ in range(count):
                number = _id_number(digit)
                body = person_body(number, employer_id=self.employer_id if employer else None)
                registry_service.create_person(
                    session, data=PersonCreate.model_validate(body), actor=CLERK
                )
                registry_photos.put_photo(
                    session,
                    id_number=number,
                    data=portraits.demo_portrait(len(numbers)),
                    actor=CLERK,
                )
                application_service.apply(
                    session,
                    data=ApplicationIn(id_number=number, bank_code=self.bank_code),
                    actor=CLERK,
                )
                numbers.append(number)
        return numbers

    def make(self, batch_no: str) -> Path:
        """What the province does with a sent batch; the result file, as the city gets it."""
        folder = self.province.folder(batch_no)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(
            batch_service.batch_dir(batch_no) / batch_service.PACKAGE_NAME, folder / "upload"
        )
        status, body = self.province.accept(folder / "upload", batch_no=batch_no)
        assert status == 202, body
        self.province._threads[batch_no].join(timeout=120)
        state = self.province.state(batch_no)
        assert state is not None and state["status"] == "done", state
        target = self.root / "city" / f"{batch_no}-result.zip"
        target.parent.mkdir(exist_ok=True)
        shutil.copy(self.province.folder(batch_no) / "result.zip", target)
        return target

    def mark_sent(self, batch_no: str) -> None:
        """What `send` records once the province has accepted the batch."""
        with db.transaction() as session:
            batch = session.scalars(select(Batch).where(Batch.batch_no == batch_no)).one()
            batch.status = batch_service.BatchStatus.sent.value
            batch_id = batch.id
        batch_province._accept_all(batch_id, CLERK)

    def cycle(self, *, limit: int | None = None) -> tuple[str, Path]:
        """Export, province, bank, vendor: the batch number and its result file."""
        report = batch_export.export_batch(actor=CLERK, limit=limit, chunk=7)
        batch_no = report.batch.batch_no
        self.mark_sent(batch_no)
        return batch_no, self.make(batch_no)


def _id_number(digit: str | None) -> str:
    while True:
        number = citizen_id("370811")
        if digit is None or number.endswith(digit):
            return number


def _fail_rule(rate: float = 0.0, digits: str = "") -> FailRule:
    return FailRule(rate=rate, seed="7", digits=digits, once=True)


@pytest.fixture
def city(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[City]:
    bank_digits, vendor_digits = getattr(request, "param", ("", ""))
    region = f"9{secrets.randbelow(10**5):05d}"
    monkeypatch.setenv("SSCARD_REGION_CODE", region)
    monkeypatch.setenv("SSCARD_DATA_DIR", str(tmp_path / "var"))
    reset_settings()
    keyring.reset()  # keys cached from the other backend's database are not in this one
    trust = tmp_path / "trust"
    bank = Bank(BankConfig(tmp_path / "bank", trust, _fail_rule(digits=bank_digits)))
    vendor = Vendor(
        VendorConfig(tmp_path / "vendor", trust, "HD01", 5, _fail_rule(digits=vendor_digits))
    )
    province = Province(
        ProvinceConfig(tmp_path / "province", trust, "", "", None, 60),
        bank=bank.open_accounts,
        vendor=vendor.make_cards,
    )
    with db.transaction() as session:
        bank_code = f"BK{secrets.token_hex(3).upper()}"
        iam_service.create_institution(
            session,
            data=InstitutionCreate(
                code=bank_code, name="测试合作银行", type=InstitutionType.bank, region_code="370800"
            ),
        )
        prefix = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(3))
        number_service.add_range(
            session, data=RangeIn(region_code=region, prefix=prefix, start=1, end=999_999)
        )
        fake = fakes.employers(secrets.randbelow(10**9), "370811", 1)[0]
        employer = registry_units.create_employer(
            session,
            data=EmployerCreate(
                credit_code=fake.credit_code, name=fake.name, region_code=fake.region_code
            ),
        )
        (trust / f"{region}.pem").parent.mkdir(parents=True, exist_ok=True)
        (trust / f"{region}.pem").write_text(exchange_files.batch_sign_key_pem(session))
        crypto_service.import_public_key(
            session,
            name="province-exchange",
            public_key=pem.load_public_key((trust / "province.pem").read_bytes()),
        )
        employer_id = employer.id
    yield City(region, bank_code, tmp_path, province, bank, vendor, employer_id, fake.credit_code)
    reset_settings()


def _cards(numbers: list[str]) -> list[Card]:
    with db.transaction() as session:
        ids = registry_bulk.person_ids(session, id_numbers=numbers)
        stmt = select(Card).where(Card.person_id.in_(ids.values()))
        return list(session.scalars(stmt))


def _statuses(numbers: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for card in _cards(numbers):
        found[card.status] = found.get(card.status, 0) + 1
    return found


@pytest.mark.parametrize("city", [("3", "5")], indirect=True, ids=["failing"])
def test_a_batch_goes_through_province_bank_and_vendor_and_its_result_makes_the_cards(
    city: City,
) -> None:
    applicants = city.apply(16)
    batch_no, result = city.cycle()
    with zipfile.ZipFile(batch_service.batch_dir(batch_no) / batch_service.PACKAGE_NAME) as package:
        assert len([n for n in package.namelist() if n.startswith("photos/")]) == 16
    report = result_import.import_result(actor=CLERK, path=result, chunk=5)
    bank_failures = sum(n.endswith("3") for n in applicants)
    vendor_failures = sum(n.endswith("5") for n in applicants)
    assert report.failed == bank_failures + vendor_failures
    assert report.made == 16 - report.failed and report.rejected == 0
    assert _statuses(applicants) == {
        k: v for k, v in {"made": report.made, "failed": report.failed}.items() if v
    }
    with db.transaction() as session:
        batch = session.scalars(select(Batch).where(Batch.batch_no == batch_no)).one()
        assert (batch.status, batch.made_count, batch.failed_count) == (
            "result_imported",
            report.made,
            report.failed,
        )
        boxes = list(session.scalars(select(Box).where(Box.batch_id == batch.id)))
        assert sum(b.card_count for b in boxes) == report.made
        stages = dict(
            session.execute(
                select(Failure.stage, func.count())
                .where(Failure.batch_id == batch.id)
                .group_by(Failure.stage)
            ).all()
        )
        assert stages == {
            k: v for k, v in {"bank": bank_failures, "vendor": vendor_failures}.items() if v
        }
    made = next(c for c in _cards(applicants) if c.status == "made")
    assert made.card_id_code and made.card_id_code.startswith(city.region)
    assert made.bank_account_masked and made.box_code and made.box_position


def test_the_account_opening_file_carries_province_codes_and_queues_unknown_employers(
    city: City,
) -> None:
    city.apply(3)
    report = batch_export.export_batch(actor=CLERK)
    assert report.unresolved_codes == 1
    path = batch_service.batch_dir(report.batch.batch_no) / batch_service.PACKAGE_NAME
    verify = key_verifier(trusted_keys(city.root / "trust"))
    with open_package(path, expect=ACCOUNT_OPENING, verify=verify) as package:
        rows = list(package.rows())
        assert [r["AAC004"] for r in rows] == ["1", "1", "1"]  # male, the province's code
        assert {r["AAB001"] for r in rows} == {""}  # not mapped yet
        assert {r["EMPLOYER_CREDIT_CODE"] for r in rows} == {city.employer_credit_code}
        assert {r["CARD_TYPE"] for r in rows} == {"3"}
        assert all(len(package.photo(r)) > 9 * 1024 for r in rows)
    with db.transaction() as session:
        queued = [
            u
            for u in exchange_mapping.list_unresolved(session, kind="employer")
            if u.code == city.employer_credit_code
        ]
        assert queued and queued[0].direction == "out" and queued[0].occurrences == 3
        exchange_mapping.resolve_unresolved(
            session,
            unresolved_id=queued[0].id,
            data=exchange_mapping.ResolveIn(code="SD-EMP-1", note="省厅单位编号"),
            actor=CLERK,
        )
    city.apply(1)
    second = batch_export.export_batch(actor=CLERK)
    path = batch_service.batch_dir(second.batch.batch_no) / batch_service.PACKAGE_NAME
    with open_package(path, expect=ACCOUNT_OPENING, verify=verify) as package:
        assert [r["AAB001"] for r in package.rows()] == ["SD-EMP-1"]


def test_the_province_employer_codes_coming_back_are_queued_with_a_suggestion(city: City) -> None:
    city.apply(2)
    batch_no, result = city.cycle()
    result_import.import_result(actor=CLERK, path=result)
    with db.transaction() as session:
        inward = [
            u
            for u in exchange_mapping.list_unresolved(session, kind="employer")
            if u.direction == "in" and u.suggestion == city.employer_credit_code
        ]
        assert len(inward) == 1 and inward[0].code.startswith("SD")
        assert inward[0].source == f"result:{batch_no}"
        resolved = exchange_mapping.resolve_unresolved(
            session, unresolved_id=inward[0].id, data=exchange_mapping.ResolveIn(), actor=CLERK
        )
        assert resolved.status == "resolved"
        assert exchange_mapping.entity_codes_in(
            session, system="province", kind="employer", codes=[inward[0].code]
        ) == {inward[0].code: city.employer_credit_code}


def test_importing_the_same_result_file_twice_changes_nothing_the_second_time(
    city: City,
) -> None:
    applicants = city.apply(6)
    batch_no, result = city.cycle()
    first = result_import.import_result(actor=CLERK, path=result, chunk=4)
    assert first.made == 6
    events_before = _event_count(applicants)
    second = result_import.import_result(actor=CLERK, path=result, chunk=4)
    assert second.already_imported and second.made == second.failed == 0
    assert _event_count(applicants) == events_before
    assert second.batch.made_count == 6


def _event_count(numbers: list[str]) -> int:
    ids = [c.id for c in _cards(numbers)]
    with db.transaction() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(CardEvent).where(CardEvent.card_id.in_(ids))
            )
            or 0
        )


def _result_with(city: City, batch_no: str, rows: list[dict[str, str]]) -> Path:
    """A result file for ``batch_no`` signed by the province, with these rows."""
    path = city.root / "city" / f"{batch_no}-crafted.zip"
    path.parent.mkdir(exist_ok=True)
    with PackageWriter(
        path, fmt=CARD_RESULT, batch_no=batch_no, sender="province", recipient=city.region
    ) as writer:
        for row in rows:
            writer.add(row)
        writer.finish(city.province.signer)
    return path


def test_rows_that_cannot_be_applied_are_listed_and_the_import_goes_on(city: City) -> None:
    applicants = city.apply(4)
    batch_no, result = city.cycle()
    with open_package(
        result,
        expect=CARD_RESULT,
        verify=key_verifier(trusted_keys(city.root / "trust")),
    ) as package:
        good = [dict(r.cells) for r in package.rows()]
    other_region = dict(good[1])
    code = other_region["CARD_ID_CODE"]
    first30 = "370100" + code[6:30]
    other_region["CARD_ID_CODE"] = first30 + primitives_check(first30)
    wrong = f"{(int(good[2]['CARD_ID_CODE'][30:]) + 1) % 100:02d}"
    bad_check = dict(good[2], CARD_ID_CODE=good[2]["CARD_ID_CODE"][:30] + wrong)
    unknown = dict(good[3], AAZ500="ZZZ999999")
    crafted = _result_with(city, batch_no, [good[0], other_region, bad_check, unknown, good[3]])
    report = result_import.import_result(actor=CLERK, path=crafted, chunk=2)
    assert (report.made, report.rejected) == (2, 3)
    reasons = [r.reason for r in report.rejects]
    assert "与本卡" in reasons[0] and "校验位错误" in reasons[1] and "不存在" in reasons[2]
    assert all("*" in r.id_number for r in report.rejects)
    assert _statuses(applicants) == {"made": 2, "making": 2}
    again = _result_with(city, batch_no, [good[0]])
    report = result_import.import_result(actor=CLERK, path=again)
    assert (report.made, report.unchanged, report.rejected) == (0, 1, 0)


def primitives_check(first30: str) -> str:
    from sscard.issuance import numbers

    return numbers.card_id_check(first30)


def test_a_changed_result_file_is_refused_whole_and_changes_nothing(city: City) -> None:
    applicants = city.apply(3)
    batch_no, result = city.cycle()
    tampered = city.root / "tampered.zip"
    with zipfile.ZipFile(result) as source, zipfile.ZipFile(tampered, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == ROWS:
                data = data.replace(b"\r\n1,", b"\r\n9,", 1)
            target.writestr(info, data)
    with pytest.raises(PackageRejected) as refused:
        result_import.import_result(actor=CLERK, path=tampered)
    assert "SM3" in refused.value.message or "大小不符" in refused.value.message
    assert _statuses(applicants) == {"making": 3}


@pytest.mark.parametrize("city", [("3", "")], indirect=True, ids=["failing"])
def test_a_failure_is_resubmitted_into_the_next_batch_with_the_same_card_number(
    city: City,
) -> None:
    applicants = city.apply(2, digit="3") + city.apply(2, digit="1")
    batch_no, result = city.cycle()
    result_import.import_result(actor=CLERK, path=result)
    with db.transaction() as session:
        failures = batch_service.list_failures(session, batch_no=batch_no)
        assert len(failures) == 2 and {f.stage for f in failures} == {"bank"}
        assert all("*" in f.holder_id_number for f in failures)
        by_employer = batch_service.list_failures(session, employer_id=city.employer_id)
        assert {f.id for f in by_employer} >= {f.id for f in failures}
        first, second = failures
        batch_service.resubmit_failure(
            session, failure_id=first.id, note="已核实身份信息", actor=CLERK
        )
        batch_service.resolve_failure(
            session, failure_id=second.id, note="本人放弃申领", actor=CLERK
        )
    with db.transaction() as session:
        with pytest.raises(batch_errors.FailureStateConflict):
            batch_service.resubmit_failure(session, failure_id=first.id, note="再次", actor=CLERK)
    resubmitted = next(c for c in _cards(applicants) if c.card_number == first.card_number)
    assert resubmitted.status == "applied"
    next_no, next_result = city.cycle()
    assert next_no != batch_no
    report = result_import.import_result(actor=CLERK, path=next_result)
    assert (report.made, report.failed) == (1, 0)
    card = next(c for c in _cards(applicants) if c.card_number == first.card_number)
    assert card.status == "made"


def test_a_dead_applicant_is_held_back_and_listed(city: City) -> None:
    alive, dead = city.apply(2)
    with db.transaction() as session:
        registry_service.mark_deceased(
            session, id_number=dead, death_date=date(2026, 1, 1), source="counter", actor=CLERK
        )
    report = batch_export.export_batch(actor=CLERK)
    assert report.batch.card_count == 1 and report.held == 1
    assert "死亡" in report.held_cards[0].reason
    assert "*" in report.held_cards[0].id_number
    assert _statuses([dead])["applied"] == 1


def test_an_export_with_nothing_to_send_says_so_and_leaves_no_batch(city: City) -> None:
    with pytest.raises(batch_errors.NothingToExport):
        batch_export.export_batch(actor=CLERK)
    with db.transaction() as session:
        assert batch_service.list_batches(session, limit=5) == [] or all(
            b.region_code != city.region for b in batch_service.list_batches(session, limit=5)
        )


def test_an_export_stopped_while_writing_is_finished_by_the_next_export(
    city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    city.apply(3)
    original, calls = batch_export._write_chunk, []

    def broken(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        original(*args, **kwargs)

    monkeypatch.setattr(batch_export, "_write_chunk", broken)
    with pytest.raises(RuntimeError):
        batch_export.export_batch(actor=CLERK, chunk=2)
    monkeypatch.setattr(batch_export, "_write_chunk", original)
    report = batch_export.export_batch(actor=CLERK)
    assert report.resumed and report.batch.status == "exported" and report.batch.card_count == 2
    path = batch_service.batch_dir(report.batch.batch_no) / batch_service.PACKAGE_NAME
    verify = key_verifier(trusted_keys(city.root / "trust"))
    with open_package(path, expect=ACCOUNT_OPENING, verify=verify) as package:
        assert package.manifest.row_count == 2
    following = batch_export.export_batch(actor=CLERK)
    assert not following.resumed and following.batch.card_count == 1


def test_card_type_mapping_ships_for_the_province(engine: Engine) -> None:
    with db.transaction() as session:
        found = session.scalars(
            select(EntityMapping.code).where(
                EntityMapping.system_key == "province", EntityMapping.kind == "card_type"
            )
        ).all()
    assert set(found) == {"2", "3"}


def test_sending_with_no_province_address_is_503_naming_the_setting(
    city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    city.apply(1)
    report = batch_export.export_batch(actor=CLERK)
    monkeypatch.delenv("SSCARD_PROVINCE_URL", raising=False)
    reset_settings()
    with pytest.raises(PeerUnavailable) as missing:
        batch_province.send_batch(batch_no=report.batch.batch_no, actor=CLERK)
    assert (missing.value.status_code, missing.value.code) == (503, "province_unavailable")
    assert "SSCARD_PROVINCE_URL" in missing.value.message
    with db.transaction() as session:
        batch = session.scalars(select(Batch).where(Batch.batch_no == report.batch.batch_no)).one()
        assert batch.status == "exported"
