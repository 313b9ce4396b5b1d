"""Bulk import of persons into SQLite and PostgreSQL: rows/s, peak memory, look-up latency.

Run by hand::

    .venv/bin/python bench/registry_import.py [--rows 1000000] [--postgres URL]

``--postgres`` (or ``SSCARD_BENCH_DATABASE_URL``) names a PostgreSQL server the benchmark may
create a throwaway database on (``sscard_bench_<random>``, dropped at the end); without it
only SQLite is measured. Prints one JSON document. For each database:

- ``import``: ``sscard registry import`` of the generated CSV (every row checked, four
  personal fields encrypted, three blind indexes, content digest), run in a fresh process
  so that its peak resident memory is its own (``peak_rss_mb`` of the importing process,
  ``worker_peak_rss_mb`` of the largest worker), with the CPU time it took per row (all
  processes, and the importing process alone): on a shared machine the CPU time says more
  than the wall time, and rows/s on an idle machine is about cores / CPU time per row;
- ``rerun``: the same file imported again (every row found unchanged);
- ``reference``: the same rows inserted as plain text, no checks, no encryption (``COPY`` on
  PostgreSQL, ``executemany`` on SQLite) into a table with a unique index on the ID number:
  what the rules and the encryption cost;
- ``lookup``: p50 and p99 of ``registry.persons.service.find_person`` by ID number over random
  persons of the file, each in its own transaction.

No assertions: figures depend on the machine (cores, disk, other load).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HEADER = (
    "id_number",
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "phone",
    "address",
    "household_region_code",
    "residence_region_code",
)
REGION = "370800"
SEED = 2026


def generate(path: Path, rows: int, sample: int) -> tuple[list[str], float]:
    """Write ``rows`` generated persons as CSV; a random sample of their ID numbers."""
    from sscard.registry import fakes

    rng = random.Random(SEED)
    chosen: list[str] = []
    started = time.perf_counter()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        people = fakes.persons(SEED, REGION, rows, employers=[], communities=[])
        for n, p in enumerate(people):
            writer.writerow(
                (
                    p.id_number,
                    p.name,
                    p.gender,
                    p.ethnicity,
                    p.birth_date.isoformat(),
                    p.phone,
                    p.address,
                    p.household_region_code,
                    p.residence_region_code,
                )
            )
            if len(chosen) < sample:
                chosen.append(p.id_number)
            elif (k := rng.randrange(n + 1)) < sample:
                chosen[k] = p.id_number
    return chosen, time.perf_counter() - started


def _environment(url: str, data_dir: Path, key: str) -> dict[str, str]:
    return {
        **os.environ,
        "SSCARD_ENV": "test",
        "SSCARD_DATABASE_URL": url,
        "SSCARD_DATA_DIR": str(data_dir),
        "SSCARD_MASTER_KEY": key,
    }


def _configure(env: dict[str, str]) -> None:
    os.environ.update(env)
    from sscard import bootstrap, db
    from sscard.crypto import keyring
    from sscard.settings import reset_settings

    reset_settings()
    keyring.reset()
    bootstrap.wire()
    db.configure()


def migrate(env: dict[str, str]) -> None:
    _configure(env)
    from sscard.db import migrate as migrations

    migrations.upgrade("head")


def import_once(file: Path, workers: int | None, chunk: int, again: bool) -> dict[str, Any]:
    """Inside the child process: import the file, report counts, time and memory."""
    from sscard.kit.context import SYSTEM
    from sscard.registry.imports import job as import_job

    _configure(dict(os.environ))
    started = time.perf_counter()
    job, _ = import_job.import_file(
        file, actor=SYSTEM, again=again, options=import_job.RunOptions(chunk=chunk, workers=workers)
    )
    wall = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers_used = resource.getrusage(resource.RUSAGE_CHILDREN)
    main_cpu = own.ru_utime + own.ru_stime
    total_cpu = main_cpu + workers_used.ru_utime + workers_used.ru_stime
    return {
        "rows": job.rows_total,
        "created": job.rows_created,
        "unchanged": job.rows_unchanged,
        "rejected": job.rows_rejected,
        "wall_s": round(wall, 2),
        "rows_per_s": round(job.rows_total / wall),
        "cpu_us_per_row": round(total_cpu / job.rows_total * 1e6),
        "main_cpu_us_per_row": round(main_cpu / job.rows_total * 1e6),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "worker_peak_rss_mb": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        ),
    }


def run_import(env: dict[str, str], file: Path, args: argparse.Namespace, again: bool) -> Any:
    command = [sys.executable, __file__, "--child-import", str(file), "--chunk", str(args.chunk)]
    if args.workers is not None:
        command += ["--workers", str(args.workers)]
    if again:
        command.append("--again")
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
    return json.loads(done.stdout)


def reference_sqlite(path: Path, file: Path) -> dict[str, Any]:
    """Plain text rows, executemany in chunks, one unique index: no rules, no encryption."""
    connection = sqlite3.connect(path)
    columns = ", ".join(f"{name} TEXT" for name in HEADER)
    connection.execute(f"CREATE TABLE bench_plain_person ({columns})")
    connection.execute("CREATE UNIQUE INDEX ux_bench_plain ON bench_plain_person (id_number)")
    statement = f"INSERT INTO bench_plain_person VALUES ({', '.join('?' * len(HEADER))})"  # noqa: S608
    started = time.perf_counter()
    rows = 0
    with file.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        batch: list[list[str]] = []
        for row in reader:
            batch.append(row)
            if len(batch) == 2000:
                connection.executemany(statement, batch)
                connection.commit()
                rows += len(batch)
                batch = []
        connection.executemany(statement, batch)
        connection.commit()
        rows += len(batch)
    wall = time.perf_counter() - started
    connection.execute("DROP TABLE bench_plain_person")
    connection.close()
    return {"method": "executemany", "wall_s": round(wall, 2), "rows_per_s": round(rows / wall)}


def reference_postgres(url: str, file: Path) -> dict[str, Any]:
    """``COPY ... FROM STDIN (FORMAT csv)`` of the file into a plain table."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        columns = ", ".join(f"{name} text" for name in HEADER)
        connection.execute(f"CREATE TABLE bench_plain_person ({columns})")
        connection.execute("CREATE UNIQUE INDEX ux_bench_plain ON bench_plain_person (id_number)")
        started = time.perf_counter()
        with (
            connection.cursor() as cursor,
            cursor.copy("COPY bench_plain_person FROM STDIN (FORMAT csv, HEADER true)") as copy,
            file.open("rb") as handle,
        ):
            while block := handle.read(1 << 20):
                copy.write(block)
        connection.commit()
        wall = time.perf_counter() - started
        rows = connection.execute("SELECT count(*) FROM bench_plain_person").fetchone()
        connection.execute("DROP TABLE bench_plain_person")
        connection.commit()
    count = rows[0] if rows else 0
    return {"method": "COPY", "wall_s": round(wall, 2), "rows_per_s": round(count / wall)}


def lookups(env: dict[str, str], id_numbers: list[str]) -> dict[str, Any]:
    """Latency of find_person by ID number, one transaction per look-up."""
    _configure(env)
    from sscard import db
    from sscard.registry.persons import service

    times: list[float] = []
    missing = 0
    for number in id_numbers:
        with db.transaction() as session:
            started = time.perf_counter()
            found = service.find_person(session, id_number=number)
            times.append(time.perf_counter() - started)
            missing += found is None
    db.get_engine().dispose()
    ordered = sorted(times)
    return {
        "n": len(times),
        "missing": missing,
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 3),
    }


def measure(
    name: str, url: str, file: Path, sample: list[str], args: argparse.Namespace, work: Path
) -> dict[str, Any]:
    data_dir = work / f"var-{name}"
    env = _environment(url, data_dir, secrets.token_hex(16))
    migrate(env)
    result: dict[str, Any] = {"import": run_import(env, file, args, again=False)}
    if not args.no_rerun:
        result["rerun"] = run_import(env, file, args, again=True)
    result["lookup"] = lookups(env, sample)
    if name == "sqlite":
        result["reference"] = reference_sqlite(Path(url.split("///", 1)[1]), file)
        result["database_mb"] = round(Path(url.split("///", 1)[1]).stat().st_size / 1e6, 1)
    else:
        result["reference"] = reference_postgres(url, file)
    return result


def _server(url: str) -> tuple[str, str]:
    """(admin URL on the ``postgres`` database, base URL without a database)."""
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    base = base.replace("postgresql+psycopg://", "postgresql://")
    return f"{base}/postgres", base


def with_postgres(server_url: str, action: Any) -> Any:
    import psycopg

    admin, base = _server(server_url)
    name = f"sscard_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
        version = connection.execute("SHOW server_version").fetchone()
    try:
        return {"server_version": version[0] if version else None, **action(f"{base}/{name}")}
    finally:
        from sscard import db

        db.get_engine().dispose()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", default=os.environ.get("SSCARD_BENCH_DATABASE_URL"))
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--chunk", type=int, default=2000)
    parser.add_argument("--no-rerun", action="store_true", help="Skip the second import.")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--child-import", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--again", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_import:
        json.dump(import_once(args.child_import, args.workers, args.chunk, args.again), sys.stdout)
        return

    work = Path(tempfile.mkdtemp(prefix="sscard-bench-import-"))
    try:
        file = work / "persons.csv"
        sample, generated = generate(file, args.rows, args.lookups)
        report: dict[str, Any] = {
            "machine": {
                "python": platform.python_version(),
                "cores": os.cpu_count(),
                "sqlite": sqlite3.sqlite_version,
                "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            },
            "rows": args.rows,
            "file_mb": round(file.stat().st_size / 1e6, 1),
            "generate_s": round(generated, 1),
        }
        if not args.skip_sqlite:
            url = f"sqlite:///{work}/bench.db"
            report["sqlite"] = measure("sqlite", url, file, sample, args, work)
        if args.postgres:
            report["postgresql"] = with_postgres(
                args.postgres,
                lambda url: measure("postgresql", url, file, sample, args, work),
            )
        report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
