"""Reconciliation of one clearing day: N card payments in the ledger against the bank's daily
file of the same payments with planted differences (ours only, theirs only, amount and
status), on PostgreSQL and on SQLite. Beside it, the reference: a plain Python dict join of
two text files holding the same records (ours and the bank's), in the same run.

    .venv/bin/python bench/reconciliation.py [--transactions 1000000] [--planted 100]
        [--database-url URL] [--sqlite-only]

The PostgreSQL database is ``--database-url``, else ``SSCARD_BENCH_DATABASE_URL``, else
``SSCARD_TEST_DATABASE_URL``; the bench works in a schema of its own (``bench_recon``),
dropped at the start and the end. SQLite runs in a temporary file. The ledger rows are
inserted in bulk (the ledger's triggers apply them: this is setup, timed apart); the import
(read and check the file, read our books, match, record the differences) runs in a child
process so its peak resident memory is its own. Prints one JSON document; no assertions.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from sscard.db import migrate, utcnow
from sscard.kit.context import SYSTEM
from sscard.payments.clearing import rules
from sscard.payments.ledger import service as ledger_service
from sscard.payments.ledger.schemas import AccountIn
from sscard.payments.recon import dailyfile
from sscard.payments.recon import service as recon_service

SCHEMA = "bench_recon"
BANK = "BENCHBANK"
CHUNK = 20_000


def _order_no(n: int) -> str:
    return f"P20261204{n:011d}"


def _amount(n: int) -> int:
    return 100 + n * 37 % 50_000


def _status(n: int) -> str:
    return "refused" if n % 50 == 0 else "done"


def _populate(engine: Engine, count: int) -> float:
    """Our books: one transfer per payment (``pay:<no>:b:post`` done, ``...:void`` refused is
    left out: a refused payment leaves only its pending hold, voided)."""
    with Session(engine) as session, session.begin():
        for code in (f"bank-clearing:{BANK}", "card:BENCH"):
            ledger_service.open_account(
                session, data=AccountIn(code=code, debits_must_not_exceed_credits=False)
            )
        ids = dict(session.execute(text("SELECT code, id FROM payments_ledger_account")).all())
    bank, card = ids[f"bank-clearing:{BANK}"], ids["card:BENCH"]
    now = utcnow()
    insert = text(
        "INSERT INTO payments_ledger_transfer (ref, kind, debit_account_id, credit_account_id,"
        " amount, code, reason, created_at) VALUES (:ref, 'posted', :d, :c, :a, 'payment', '',"
        " :t)"
    )
    started = time.perf_counter()
    restore = _triggers_off(engine)
    if engine.dialect.name == "postgresql":
        _copy(engine, count, bank, card, now)
        restore()
        return time.perf_counter() - started
    for start in range(0, count, CHUNK):
        rows = [
            {"ref": f"pay:{_order_no(n)}:b:post", "d": bank, "c": card, "a": _amount(n), "t": now}
            for n in range(start, min(start + CHUNK, count))
            if _status(n) == "done"
        ]
        with engine.begin() as connection:
            connection.execute(insert, rows)
    restore()
    return time.perf_counter() - started


def _copy(engine: Engine, count: int, bank: int, card: int, now: Any) -> None:
    columns = "ref, kind, debit_account_id, credit_account_id, amount, code, reason, created_at"
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:  # type: ignore[attr-defined]
            with cursor.copy(f"COPY payments_ledger_transfer ({columns}) FROM STDIN") as copy:
                for n in range(count):
                    if _status(n) == "done":
                        ref = f"pay:{_order_no(n)}:b:post"
                        copy.write_row((ref, "posted", bank, card, _amount(n), "payment", "", now))
        raw.commit()
    finally:
        raw.close()


def _triggers_off(engine: Engine) -> Any:
    """Setup only: the ledger's triggers off while the bench's rows go in (the account
    totals are not what reconciliation reads); the function that puts them back."""
    table = "payments_ledger_transfer"
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))

        def back() -> None:
            with engine.begin() as connection:
                connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))

        return back
    with engine.begin() as connection:
        found = connection.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
            {"t": table},
        ).all()
        for name, _sql in found:
            connection.execute(text(f'DROP TRIGGER "{name}"'))

    def recreate() -> None:
        with engine.begin() as connection:
            for _name, sql in found:
                connection.execute(text(sql))

    return recreate


def _bank_file(count: int, planted: int, day: date) -> bytes:
    """The bank's file: every payment, with ``planted`` differences of each kind."""
    at = dailyfile.utc_text(utcnow())

    def records() -> Any:
        for n in range(count):
            if n % 1000 == 1 and n // 1000 < planted:
                continue  # ours only
            amount, status = _amount(n), _status(n)
            if n % 1000 == 2 and n // 1000 < planted:
                amount += 1  # amount differs
            if n % 1000 == 3 and n // 1000 < planted:
                status = "refused"  # status differs
            yield dailyfile.Record(_order_no(n), "debit", amount, status, at)
        for k in range(planted):
            yield dailyfile.Record(_order_no(count + k), "debit", 999, "done", at)  # theirs only

    return dailyfile.write(dailyfile.Header("bank", BANK, day), records())


def _our_file(count: int) -> bytes:
    lines = [f"{_order_no(n)}|{_amount(n)}|{_status(n)}\n" for n in range(count)]
    return "".join(lines).encode()


def _reference(ours: Path, theirs: Path) -> dict[str, Any]:
    """A plain dict join of the two files (what any script would do)."""
    started = time.perf_counter()
    book: dict[str, tuple[str, str]] = {}
    with ours.open("rb") as f:
        for line in f:
            key, amount, status = line.decode().rstrip("\n").split("|")
            book[key] = (amount, status)
    differences = 0
    seen = set()
    with theirs.open("rb") as f:
        for line in f:
            parts = line.decode().rstrip("\n").split("|")
            if parts[0] != "D":
                continue
            mine = book.get(parts[1])
            seen.add(parts[1])
            if mine is None:
                differences += parts[4] == "done"
            elif (mine[1] == "done") != (parts[4] == "done"):
                differences += 1
            elif mine[1] == "done" and mine[0] != parts[3]:
                differences += 1
    differences += sum(1 for k, v in book.items() if k not in seen and v[1] == "done")
    return {"seconds": round(time.perf_counter() - started, 3), "differences": differences}


def _peak_kb() -> int:
    """This process's own peak resident memory. On Linux ``VmHWM`` (reset when the spawned
    child executes Python afresh); ``ru_maxrss`` would carry the parent's peak across the
    spawn and report it as the child's."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _child(url: str, schema: str | None, path: str, queue: Any) -> None:
    args = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
    engine = create_engine(url, **args)
    data = Path(path).read_bytes()
    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        out = recon_service.import_file(session, data=data, actor=SYSTEM)
    seconds = time.perf_counter() - started
    peak_kb = _peak_kb()
    queue.put(
        {
            "seconds": seconds,
            "peak_rss_mb": round(peak_kb / 1024, 1),
            **out.model_dump(include={"lines", "matched", "differences"}),
        }
    )
    engine.dispose()


def _import(url: str, schema: str | None, path: Path) -> dict[str, Any]:
    spawn = multiprocessing.get_context("spawn")
    queue = spawn.Queue()
    process = spawn.Process(target=_child, args=(url, schema, str(path), queue))
    process.start()
    result: dict[str, Any] = queue.get()
    process.join()
    result["rows_per_second"] = round(result["lines"] / result["seconds"], 1)
    result["seconds"] = round(result["seconds"], 3)
    return result


def _run(url: str, schema: str | None, count: int, files: tuple[Path, Path]) -> dict[str, Any]:
    args = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
    if schema:
        admin = create_engine(url)
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
    engine = create_engine(url, **args)
    migrate.upgrade("head", engine=engine)
    setup = _populate(engine, count)
    engine.dispose()
    result = {"ledger_insert_seconds": round(setup, 1), "import": _import(url, schema, files[1])}
    if schema:
        admin = create_engine(url)
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--planted", type=int, default=100)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    count, planted = args.transactions, min(args.planted, args.transactions // 1000)
    day = rules.clearing_day(utcnow(), rules.parse_cutoff("23:00"))
    os.environ.setdefault("SSCARD_PAY_CUTOFF", "23:00")
    out: dict[str, Any] = {
        "bench": "reconciliation",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "transactions": count,
        "planted_per_kind": planted,
        "expected_differences": 4 * planted,
    }
    with tempfile.TemporaryDirectory() as folder:
        theirs, ours = Path(folder) / "bank.txt", Path(folder) / "ours.txt"
        theirs.write_bytes(_bank_file(count, planted, day - timedelta(days=0)))
        ours.write_bytes(_our_file(count))
        out["file_mb"] = round(theirs.stat().st_size / 2**20, 1)
        out["reference_dict_join"] = _reference(ours, theirs)
        out["sqlite"] = _run(f"sqlite:///{folder}/bench.db", None, count, (ours, theirs))
        url = (
            args.database_url
            or os.environ.get("SSCARD_BENCH_DATABASE_URL")
            or os.environ.get("SSCARD_TEST_DATABASE_URL")
        )
        if url and not args.sqlite_only:
            url = url.replace("postgresql://", "postgresql+psycopg://", 1)
            out["postgresql"] = _run(url, SCHEMA, count, (ours, theirs))
    print(json.dumps(out, indent=2))  # noqa: T201 - the bench's output


if __name__ == "__main__":
    main()
