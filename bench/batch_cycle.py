"""The whole batch card-making cycle (批量制卡) for many applications: time and peak memory.

Run by hand::

    .venv/bin/python bench/batch_cycle.py [--applications 100000] [--database-url URL]

Without ``--database-url`` (or ``SSCARD_BENCH_DATABASE_URL``) a SQLite file in a temporary
folder is used. Each stage runs in a fresh process, so that its peak resident memory
(``peak_rss_mb``) is its own:

- ``setup`` (not part of the cycle): persons registered in bulk through the registry
  (``upsert_persons``: fields encrypted, blind indexes), a ~12 KB card photo for each
  (encrypted as the registry stores it, written in bulk), and one batch-mode application
  per person, written in bulk;
- ``export``: ``sscard batch export`` (numbers allocated, cards submitted, the package with
  every photo written, signed);
- ``send``: what ``sscard batch send`` records once the province has accepted the batch
  (the cards move to ``making``); the upload itself is left out (no HTTP in this bench);
- ``province``: the province, bank and vendor code of ``peers/`` run in this process, as
  the processes would: the city's package checked, the bank file, the bank's accounts,
  the vendor file with every photo, the vendor's cards, the result file;
- ``import``: ``sscard batch import-result`` of the province's result file.

Prints one JSON document: per stage the wall time (``seconds``), the CPU time of the
stage's process (``cpu_seconds``, startup included; on a busy machine the wall time grows
and this does not) and the peak resident memory. No assertions: figures depend on the
machine.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REGION = "370800"
RESIDENCE = "370811"
BANK = "BENCHBANK"
CHUNK = 2000
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _id_number(n: int) -> str:
    born = date(1950, 1, 1) + timedelta(days=n // 400)
    first17 = f"{RESIDENCE}{born:%Y%m%d}{n % 400 * 2 + 1:03d}"
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def _portraits(count: int) -> list[bytes]:
    """Card photos of realistic size (358×441 JPEG, about 12 KB)."""
    from PIL import Image

    from sscard.registry.photos import portraits

    found = []
    for seed in range(count):
        image = Image.open(io.BytesIO(portraits.demo_portrait(seed)))
        for quality in (60, 70, 80):
            out = io.BytesIO()
            image.save(out, "JPEG", quality=quality, dpi=(350, 350))
            if out.tell() >= 10 * 1024:
                break
        found.append(out.getvalue())
    return found


def _actor() -> Any:
    from sscard.kit.context import Actor, ActorKind

    return Actor(kind=ActorKind.system, id="bench", name="基准测试", permissions=frozenset({"*"}))


# ---- stages (each in its own process) ---------------------------------------------------


def stage_setup(n: int, work: Path) -> dict[str, Any]:
    from sscard import db
    from sscard.db import migrate

    db.configure()
    migrate.upgrade("head")
    started = time.perf_counter()
    persons = _setup_persons(n)
    photos_at = time.perf_counter()
    _setup_photos(n)
    cards_at = time.perf_counter()
    _setup_cards()
    return {
        "persons_seconds": round(photos_at - started, 2),
        "photos_seconds": round(cards_at - photos_at, 2),
        "applications_seconds": round(time.perf_counter() - cards_at, 2),
        "persons": persons,
    }


def _setup_persons(n: int) -> int:
    from sscard import db
    from sscard.iam import service as iam_service
    from sscard.iam.catalog import InstitutionType
    from sscard.iam.schemas import InstitutionCreate
    from sscard.issuance.cards import number_service
    from sscard.issuance.cards.schemas import RangeIn
    from sscard.registry import fakes
    from sscard.registry.bulk import service as registry_bulk
    from sscard.registry.units import service as registry_units
    from sscard.registry.units.schemas import EmployerCreate

    with db.transaction() as session:
        iam_service.create_institution(
            session,
            data=InstitutionCreate(
                code=BANK, name="基准合作银行", type=InstitutionType.bank, region_code=REGION
            ),
        )
        number_service.add_range(
            session, data=RangeIn(region_code=REGION, prefix="B", start=1, end=99_999_999)
        )
        employers = [
            registry_units.create_employer(
                session,
                data=EmployerCreate(
                    credit_code=e.credit_code, name=e.name, region_code=e.region_code
                ),
            ).id
            for e in fakes.employers(2026, RESIDENCE, 50)
        ]
    for start in range(0, n, 5000):
        records = [_record(i, employers) for i in range(start, min(n, start + 5000))]
        with db.transaction() as session:
            registry_bulk.upsert_persons(session, records, label="bench")
    return n


def _record(i: int, employers: list[int]) -> Any:
    from sscard.registry.records import PersonRecord

    number = _id_number(i)
    return PersonRecord(
        id_number=number,
        document_type="01",
        name="张" + "伟芳娜秀英敏静丽强磊"[i % 10] + "明",
        gender="1",
        ethnicity="01",
        birth_date=date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
        nationality="CHN",
        phone=None,
        address=None,
        household_region_code=RESIDENCE,
        residence_region_code=RESIDENCE,
        employer_id=employers[i % len(employers)] if i % 3 else None,
    )


def _setup_photos(n: int) -> None:
    from sqlalchemy import insert, select

    from sscard import db
    from sscard.crypto import fields
    from sscard.db import utcnow
    from sscard.registry.persons.models import Person
    from sscard.registry.photos.models import Photo

    portraits = _portraits(40)
    last = ""
    while True:
        with db.transaction() as session:
            ids = list(
                session.scalars(
                    select(Person.id).where(Person.id > last).order_by(Person.id).limit(CHUNK)
                )
            )
            if not ids:
                return
            now = utcnow()
            rows = []
            for index, person_id in enumerate(ids):
                data = portraits[index % len(portraits)]
                rows.append(
                    {
                        "person_id": person_id,
                        "width": 358,
                        "height": 441,
                        "size_bytes": len(data),
                        "uploaded_at": now,
                        "uploaded_by": "bench",
                        "content_enc": fields.encrypt_blob(
                            data,
                            table="registry_photo",
                            column="content_enc",
                            row_id=person_id,
                            session=session,
                        ),
                    }
                )
            session.execute(insert(Photo), rows)
            last = ids[-1]


def _setup_cards() -> None:
    from sqlalchemy import insert, select

    from sscard import db
    from sscard.db import new_id, utcnow
    from sscard.issuance.cards.models import Card
    from sscard.registry.persons.models import Person

    last = ""
    while True:
        with db.transaction() as session:
            ids = list(
                session.scalars(
                    select(Person.id).where(Person.id > last).order_by(Person.id).limit(CHUNK)
                )
            )
            if not ids:
                return
            now = utcnow()
            session.execute(
                insert(Card),
                [
                    {
                        "id": new_id(),
                        "person_id": pid,
                        "status": "applied",
                        "kind": "new",
                        "source": "employer",
                        "mode": "batch",
                        "generation": 3,
                        "region_code": REGION,
                        "managing_region_code": REGION,
                        "bank_code": BANK,
                        "applied_by": "bench",
                        "applied_at": now,
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                        "pin_failures": 0,
                        "is_offsite": False,
                        "bank_account_active": False,
                        "transport_enabled": False,
                    }
                    for pid in ids
                ],
            )
            last = ids[-1]


def stage_export(n: int, work: Path) -> dict[str, Any]:
    from sscard import bootstrap, db
    from sscard.exchange.files import service as exchange_files
    from sscard.issuance.batches import export as batch_export
    from sscard.issuance.batches import service as batch_service

    bootstrap.wire()
    report = batch_export.export_batch(actor=_actor(), chunk=CHUNK)
    trust = work / "trust"
    trust.mkdir(exist_ok=True)
    with db.transaction() as session:
        (trust / f"{REGION}.pem").write_text(exchange_files.batch_sign_key_pem(session))
    package = batch_service.batch_dir(report.batch.batch_no) / batch_service.PACKAGE_NAME
    (work / "batch_no").write_text(report.batch.batch_no)
    return {
        "cards": report.batch.card_count,
        "held": report.held,
        "package_mb": round(package.stat().st_size / 2**20, 1),
    }


def stage_send(n: int, work: Path) -> dict[str, Any]:
    from sqlalchemy import select

    from sscard import bootstrap, db
    from sscard.issuance.batches import province as batch_province
    from sscard.issuance.batches.models import Batch

    bootstrap.wire()
    batch_no = (work / "batch_no").read_text()
    with db.transaction() as session:
        batch = session.scalars(select(Batch).where(Batch.batch_no == batch_no)).one()
        batch.status, batch_id = "sent", batch.id
    batch_province._accept_all(batch_id, _actor(), chunk=CHUNK)
    return {}


def stage_province(n: int, work: Path) -> dict[str, Any]:
    from peers.bank.batch import Bank, BankConfig, FailRule
    from peers.province.batch import Province, ProvinceConfig
    from peers.vendor.batch import Vendor, VendorConfig

    from sscard.issuance.batches import service as batch_service

    batch_no = (work / "batch_no").read_text()
    trust, timings = work / "trust", {}
    rule = FailRule(rate=0.01, seed="1", once=True)
    bank = Bank(BankConfig(work / "bank", trust, rule))
    vendor = Vendor(VendorConfig(work / "vendor", trust, "HD01", 200, FailRule(0.01, "2")))

    def timed(name: str, call: Any) -> Any:
        def run(order: Path, result: Path) -> None:
            started = time.perf_counter()
            call(order, result)
            timings[name] = round(time.perf_counter() - started, 2)

        return run

    province = Province(
        ProvinceConfig(work / "province", trust, "", "", None, 900),
        bank=timed("bank_seconds", bank.open_accounts),
        vendor=timed("vendor_seconds", vendor.make_cards),
    )
    upload = work / "province-upload"
    os.link(batch_service.batch_dir(batch_no) / batch_service.PACKAGE_NAME, upload)
    started = time.perf_counter()
    status, body = province.accept(upload, batch_no=batch_no)
    timings["accept_seconds"] = round(time.perf_counter() - started, 2)
    province._threads[batch_no].join()
    state = province.state(batch_no) or {}
    shutil.copy(province.folder(batch_no) / "result.zip", work / "result.zip")
    return {
        "status": state.get("status"),
        "made": state.get("made"),
        "failed": state.get("failed"),
        **timings,
    }


def stage_import(n: int, work: Path) -> dict[str, Any]:
    from sscard import bootstrap, db
    from sscard.crypto import pem
    from sscard.crypto import service as crypto_service
    from sscard.issuance.batches import result_import

    bootstrap.wire()
    with db.transaction() as session:
        crypto_service.import_public_key(
            session,
            name="province-exchange",
            public_key=pem.load_public_key((work / "trust" / "province.pem").read_bytes()),
        )
    report = result_import.import_result(actor=_actor(), path=work / "result.zip", chunk=CHUNK)
    return {"made": report.made, "failed": report.failed, "rejected": report.rejected}


STAGES = {
    "setup": stage_setup,
    "export": stage_export,
    "send": stage_send,
    "province": stage_province,
    "import": stage_import,
}
CYCLE = ("export", "send", "province", "import")


def _child(stage: str, n: int, work: Path) -> None:
    started = time.perf_counter()
    found = STAGES[stage](n, work)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    found.update(
        seconds=round(time.perf_counter() - started, 2),
        cpu_seconds=round(usage.ru_utime + usage.ru_stime, 2),
        peak_rss_mb=_peak_mb(),
    )
    print(json.dumps(found))  # noqa: T201


def _run(stage: str, n: int, work: Path, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--stage", stage, "--applications", str(n), "--work", str(work)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"stage {stage} failed:\n{done.stdout}\n{done.stderr}")
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("SSCARD_BENCH_DATABASE_URL"))
    parser.add_argument("--stage", choices=sorted(STAGES), help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help="Keep the working folder.")
    args = parser.parse_args()
    if args.stage:
        return _child(args.stage, args.applications, args.work)
    work = Path(tempfile.mkdtemp(prefix="sscard-batch-bench-"))
    url = args.database_url or f"sqlite:///{work}/bench.db"
    env = {
        **os.environ,
        "SSCARD_DATABASE_URL": url,
        "SSCARD_DATA_DIR": str(work / "var"),
        "SSCARD_MASTER_KEY": secrets.token_hex(16),
        "SSCARD_REGION_CODE": REGION,
        "SSCARD_ENV": "development",
        "PYTHONPATH": str(ROOT),
    }
    try:
        setup = _run("setup", args.applications, work, env)
        stages = {stage: _run(stage, args.applications, work, env) for stage in CYCLE}
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(
        json.dumps(
            {  # noqa: T201
                "benchmark": "batch_cycle",
                "applications": args.applications,
                "database": url.split(":", 1)[0],
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "setup": setup,
                "stages": stages,
                "cycle_seconds": round(sum(s["seconds"] for s in stages.values()), 1),
                "cycle_cpu_seconds": round(sum(s["cpu_seconds"] for s in stages.values()), 1),
                "cycle_peak_rss_mb": max(s["peak_rss_mb"] for s in stages.values()),
            },
            ensure_ascii=False,
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
