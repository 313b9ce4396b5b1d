"""Instant card making through HTTP, with the bank peer's branch client as the client.

For each backend (PostgreSQL in a throwaway database created and dropped here, and the
embedded SQLite): registers applicants with photos, starts the bank and transport peers,
``sscard serve --workers N`` and, afterwards, one ``sscard worker``. Then ``--concurrency``
branch clients (``peers.bank.branch.Branch``) each make cards as a branch does: open the
card account on the platform, open the financial account at the bank, print, report the
card made, activate. Prints JSON: per platform call its count, calls/s and p50/p99 latency,
cards/s, errors, and how fast the worker then completes the activation sagas at the bank
and the transport operator. Figures, not assertions.

    .venv/bin/python bench/instant_http.py [--cards 400] [--concurrency 16] [--workers 2]
        [--backend both|postgresql|sqlite] [--postgres URL]   (or SSCARD_BENCH_DATABASE_URL)
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BANK = "BENCH-BANK"
PASSWORD = "bench-" + secrets.token_hex(6)  # noqa: S105 - a throwaway account of this run


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(600):
        if process.poll() is not None:
            sys.exit(f"{url} exited early:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    sys.exit(f"{url} did not start")


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, *args],
        env=env,
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _setup(cards: int) -> list[str]:
    """Migrated schema, the bank, its agent, a number range and applicants with photos."""
    from pydantic import SecretStr
    from tests.support import citizen_id, person_body

    from sscard import bootstrap, db
    from sscard.db import migrate
    from sscard.iam import service as iam
    from sscard.iam.catalog import InstitutionType
    from sscard.iam.operators import service as operators_service
    from sscard.iam.schemas import InstitutionCreate, OperatorCreate
    from sscard.issuance.cards import number_service
    from sscard.issuance.cards.schemas import RangeIn
    from sscard.kit.context import SYSTEM, acting
    from sscard.registry.persons import service as registry
    from sscard.registry.persons.schemas import PersonCreate
    from sscard.registry.photos import portraits
    from sscard.registry.photos import service as registry_photos

    migrate.upgrade("head")
    bootstrap.wire()
    with acting(SYSTEM), db.transaction() as session:
        iam.create_institution(
            session,
            data=InstitutionCreate(
                code=BANK, name="压测银行", type=InstitutionType.bank, region_code="370800"
            ),
        )
        operators_service.create_operator(
            session,
            data=OperatorCreate(
                username="benchbank",
                name="压测网点",
                institution_code=BANK,
                roles=["bank_agent"],
                password=SecretStr(PASSWORD),
            ),
        )
        number_service.add_range(
            session, data=RangeIn(region_code="370800", prefix="B", start=1, end=10_000_000)
        )
    portrait = portraits.demo_portrait(1)
    numbers: list[str] = []
    for start in range(0, cards, 100):
        with acting(SYSTEM), db.transaction() as session:
            for _ in range(min(100, cards - start)):
                number = citizen_id("370811")
                registry.create_person(
                    session, data=PersonCreate.model_validate(person_body(number)), actor=SYSTEM
                )
                registry_photos.put_photo(session, id_number=number, data=portrait, actor=SYSTEM)
                numbers.append(number)
    return numbers


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return round(ordered[index] * 1000, 1)


def _drive(url: str, bank_url: str, applicants: list[str], concurrency: int) -> dict[str, Any]:
    """Make one card per applicant with ``concurrency`` branch clients."""
    from peers.bank.branch import Branch, BranchError

    token = httpx.post(
        f"{url}/api/v1/auth/token", data={"username": "benchbank", "password": PASSWORD}
    ).json()["access_token"]
    todo: queue.Queue[str] = queue.Queue()
    for number in applicants:
        todo.put(number)
    timings: dict[str, list[float]] = {"open_account": [], "make_card": [], "activate": []}
    errors: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            branch = Branch(platform=http, bank_url=bank_url, bank_code=BANK)
            while True:
                try:
                    number = todo.get_nowait()
                except queue.Empty:
                    break
                try:
                    made = branch.make_card(number)
                except (BranchError, httpx.HTTPError) as exc:
                    with lock:
                        errors.append(str(exc)[:200])
                    continue
                with lock:
                    for call, seconds in made.timings.items():
                        timings[call].append(seconds)
            branch.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    calls = {
        name: {
            "count": len(values),
            "calls_per_s": round(len(values) / elapsed, 1),
            "mean_ms": round(statistics.fmean(values) * 1000, 1) if values else None,
            "p50_ms": _percentile(values, 50) if values else None,
            "p99_ms": _percentile(values, 99) if values else None,
        }
        for name, values in timings.items()
    }
    done = len(timings["activate"])
    return {
        "elapsed_s": round(elapsed, 2),
        "cards_made": done,
        "cards_per_s": round(done / elapsed, 1),
        "platform_requests_per_s": round(sum(len(v) for v in timings.values()) / elapsed, 1),
        "errors": len(errors),
        "first_errors": errors[:3],
        "calls": calls,
    }


def _active_count() -> int:
    from sscard import db
    from sscard.issuance.cards import stats_service

    with db.transaction() as session:
        return stats_service.making_progress(session).get("active", 0)


def _drain(env: dict[str, str], work: Path, expected: int) -> dict[str, Any]:
    """Time one outbox worker takes to finish the activation sagas at both peers."""
    worker = _start(["-m", "sscard.cli.main", "worker", "--poll", "0.1"], env, work / "worker.log")
    started = time.perf_counter()
    active = 0
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            active = _active_count()
            if active >= expected:
                break
            time.sleep(0.25)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    elapsed = time.perf_counter() - started
    return {
        "cards_activated": active,
        "elapsed_s": round(elapsed, 2),
        "cards_per_s": round(active / elapsed, 1) if elapsed else None,
        "peer_calls_per_s": round(2 * active / elapsed, 1) if elapsed else None,
    }


def run_backend(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="sscard-instant-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSCARD_")}
    env.update(
        {
            "SSCARD_DATA_DIR": str(work / "var"),
            "SSCARD_MASTER_KEY": secrets.token_hex(16),
            "SSCARD_LOG_LEVEL": "WARNING",
        }
    )
    bench_db = None
    if args.backend == "sqlite":
        env["SSCARD_DATABASE_URL"] = f"sqlite:///{work}/bench.db"
    else:
        import psycopg

        bench_db = f"sscard_bench_instant_{os.getpid()}"
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {bench_db}")
        env["SSCARD_DATABASE_URL"] = f"{args.postgres.rsplit('/', 1)[0]}/{bench_db}"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        peers = {}
        for name in ("bank", "transport"):
            port = _free_port()
            log = work / f"{name}.log"
            processes.append(_start(["-m", f"peers.{name}", "--port", str(port)], env, log))
            peers[name] = f"http://127.0.0.1:{port}"
            _wait(peers[name], processes[-1], log)
        env["SSCARD_BANK_URLS"] = json.dumps({BANK: peers["bank"]})
        env["SSCARD_TRANSPORT_URL"] = peers["transport"]
        os.environ.update(env)
        started = time.perf_counter()
        applicants = _setup(args.cards + args.warmup)
        setup_s = time.perf_counter() - started
        port = _free_port()
        serve = [
            "-m",
            "sscard.cli.main",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ]
        processes.append(_start(serve, env, work / "server.log"))
        url = f"http://127.0.0.1:{port}"
        _wait(url, processes[-1], work / "server.log")
        _drive(url, peers["bank"], applicants[: args.warmup], min(4, args.concurrency))
        measured = _drive(url, peers["bank"], applicants[args.warmup :], args.concurrency)
        drained = _drain(env, work, args.warmup + measured["cards_made"])
        return {
            "backend": "postgresql" if bench_db else "sqlite",
            "server_workers": args.workers,
            "concurrency": args.concurrency,
            "setup_s": round(setup_s, 1),
            "instant_making": measured,
            "activation_by_worker": drained,
        }
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=30)
        if bench_db:
            import psycopg

            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {bench_db} WITH (FORCE)")
        if args.keep:
            print(f"logs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cards", type=int, default=400, help="cards made in the measured run")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16, help="branch clients at once")
    parser.add_argument("--workers", type=int, default=2, help="sscard serve --workers")
    parser.add_argument("--backend", choices=["both", "postgresql", "sqlite"], default="both")
    parser.add_argument("--keep", action="store_true", help="keep the logs and files of the run")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "SSCARD_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres"
        ),
        help="a server where a throwaway database may be created and dropped",
    )
    args = parser.parse_args()
    if args.backend != "both":
        print(json.dumps(run_backend(args), ensure_ascii=False))
        return
    results = []
    for backend in ("postgresql", "sqlite"):
        command = [
            sys.executable,
            __file__,
            "--backend",
            backend,
            "--cards",
            str(args.cards),
            "--warmup",
            str(args.warmup),
            "--concurrency",
            str(args.concurrency),
            "--workers",
            str(args.workers),
            "--postgres",
            args.postgres,
        ]
        out = subprocess.run(command, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            results.append({"backend": backend, "error": out.stderr[-2000:]})
            continue
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(json.dumps({"benchmark": "instant_http", "runs": results}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
