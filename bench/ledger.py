"""Ledger transfers per second in process on PostgreSQL: one transfer per transaction, and
linked batches (1000 per transaction by default), beside a plain INSERT of the same rows into
a table without triggers, constraints or checks as the reference.

    .venv/bin/python bench/ledger.py [--transfers 2000] [--batch 1000] [--database-url URL]

The database is ``--database-url``, else ``SSCARD_BENCH_DATABASE_URL``, else
``SSCARD_TEST_DATABASE_URL``. The bench works in a schema of its own (``bench_ledger``),
dropped at the start and at the end. Prints one JSON document; no assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import time
from collections.abc import Callable

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from sscard.db import migrate
from sscard.payments.ledger import service
from sscard.payments.ledger.schemas import AccountIn, TransferIn

SCHEMA = "bench_ledger"
CARDS = 200
MERCHANTS = 20


def _transfers(count: int, tag: str) -> list[TransferIn]:
    """Pairs: a top-up from the bank to a card, then a payment from that card to a merchant."""
    made = []
    for n in range(count):
        card = f"card:C{n // 2 % CARDS}"
        if n % 2 == 0:
            debit, credit, amount, code = "bank-clearing:B", card, 1_000, "top_up"
        else:
            debit, credit, amount, code = card, f"merchant:M{n % MERCHANTS}", 700, "payment"
        made.append(
            TransferIn(
                ref=f"{tag}-{n}",
                debit_account=debit,
                credit_account=credit,
                amount=amount,
                code=code,
            )
        )
    return made


def _timed(action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _ledger(engine: Engine, transfers: list[TransferIn], batch: int) -> float:
    def run() -> None:
        for start in range(0, len(transfers), batch):
            with Session(engine) as session, session.begin():
                service.post_transfers(session, transfers=transfers[start : start + batch])

    return _timed(run)


def _plain(engine: Engine, transfers: list[TransferIn], batch: int) -> float:
    statement = text(
        "INSERT INTO bench_plain_transfer (ref, debit_account, credit_account, amount, code)"
        " VALUES (:ref, :debit_account, :credit_account, :amount, :code)"
    )
    rows = [
        t.model_dump(include={"ref", "debit_account", "credit_account", "amount", "code"})
        for t in transfers
    ]

    def run() -> None:
        for start in range(0, len(rows), batch):
            with engine.begin() as connection:
                connection.execute(statement, rows[start : start + batch])

    return _timed(run)


def _setup(url: str) -> Engine:
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    admin.dispose()
    engine = create_engine(url, connect_args={"options": f"-csearch_path={SCHEMA}"})
    migrate.upgrade("head", engine=engine)
    with Session(engine) as session, session.begin():
        codes = ["bank-clearing:B"] + [f"card:C{n}" for n in range(CARDS)]
        codes += [f"merchant:M{n}" for n in range(MERCHANTS)]
        for code in codes:
            service.open_account(session, data=AccountIn(code=code))
        session.execute(
            text(
                "CREATE TABLE bench_plain_transfer (id BIGSERIAL PRIMARY KEY, ref VARCHAR(64),"
                " debit_account VARCHAR(96), credit_account VARCHAR(96), amount BIGINT,"
                " code VARCHAR(32))"
            )
        )
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transfers", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = (
        args.database_url
        or os.environ.get("SSCARD_BENCH_DATABASE_URL")
        or os.environ.get("SSCARD_TEST_DATABASE_URL")
    )
    if not url or not url.startswith("postgresql"):
        raise SystemExit("bench/ledger.py needs a PostgreSQL URL (SSCARD_BENCH_DATABASE_URL)")
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = _setup(url)
    n, batch = args.transfers, args.batch
    tag = secrets.token_hex(3)
    seconds = {
        "ledger_single": _ledger(engine, _transfers(n, f"s{tag}"), 1),
        "ledger_batched": _ledger(engine, _transfers(n, f"b{tag}"), batch),
        "plain_insert_single": _plain(engine, _transfers(n, f"p{tag}"), 1),
        "plain_insert_batched": _plain(engine, _transfers(n, f"q{tag}"), batch),
    }
    engine.dispose()
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    admin.dispose()
    print(  # noqa: T201 - the bench's output
        json.dumps(
            {
                "bench": "ledger",
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "transfers": n,
                "batch": batch,
                "per_second": {k: round(n / s, 1) for k, s in seconds.items()},
                "seconds": {k: round(s, 3) for k, s in seconds.items()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
