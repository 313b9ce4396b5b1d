"""End-to-end payments over HTTP under wrk: acquirer -> platform -> bank, beside /healthz.

Sets up a throwaway PostgreSQL database (with Redis), seeds a merchant with a terminal, an
acquirer operator account and a few hundred active card holders whose card accounts hold
money at the bank peer, then starts three real processes: the bank peer
(``python -m peers.bank``), the platform (``sscard serve --workers N``, its banks all that
peer) and the acquirer peer (``python -m peers.acquirer``, signed in as its operator).

Just before each timed run it issues one fresh payment code per request it may send (a
resident holds one live code at a time, so the bench stands in for many residents each
showing one code: it writes the code rows as ``issue_paycode`` does, without superseding
the holder's other codes). Runs, each ``--duration`` seconds:

- ``via_acquirer``: wrk POSTs ``/pay`` to the acquirer, which charges the platform;
- ``platform_direct``: wrk POSTs ``/api/v1/payments/paycodes/charge`` to the platform as the
  acquirer's operator (the acquirer's own single process taken out);
- ``reference_healthz``: the framework's ceiling on the same server.

Outcomes are read from the database after (charges paid vs refused), the bank's debits from
the bank peer, and the ledger is verified. ``--profile`` adds the top frames of a cProfile of
the charge path in process (route body without HTTP) as ``profile_top``. Prints one JSON
document; no assertions.

    .venv/bin/python bench/payments_http.py [--duration 15] [--connections 32] [--workers 2]
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import io
import json
import os
import platform
import pstats
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AMOUNT_FEN = 500
"""Each payment: 5.00 yuan, under the no-PIN limit; a card may pay it 1,000 times a day."""

LUA = r"""
local codes = {}
local idx = 0
local step = 1
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  for line in io.lines(os.getenv("SSCARD_BENCH_CODES")) do codes[#codes + 1] = line end
  step = tonumber(os.getenv("SSCARD_BENCH_THREADS"))
  idx = tid + 1
end
function request()
  local code = codes[idx]
  idx = idx + step
  if idx > #codes then idx = tid + 1 end
  local body = string.format(os.getenv("SSCARD_BENCH_BODY"), code, "B" .. code)
  return wrk.format("POST", os.getenv("SSCARD_BENCH_PATH"), {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("SSCARD_BENCH_TOKEN"),
  }, body)
end
"""


def _say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{url} exited early:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    sys.exit(f"{url} did not start:\n{log.read_text(errors='replace')[-2000:]}")


def _start(command: list[str], log: Path, env: dict[str, str]) -> tuple[str, Any]:
    port = _free_port()
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    _wait(url, process, log)
    return url, process


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def _wrk(
    url: str,
    *,
    threads: int,
    connections: int,
    seconds: int,
    script: Path | None,
    env: dict[str, str],
) -> dict[str, Any]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["--timeout", "10s"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, env=env, check=True)
    text = out.stdout
    result: dict[str, Any] = {}
    match = re.search(r"Requests/sec:\s+([\d.]+)", text)
    result["requests_per_s"] = float(match.group(1)) if match else None
    for pct in ("50", "75", "90", "99"):
        found = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", text)
        if found:
            value, unit = float(found.group(1)), found.group(2)
            result[f"p{pct}_ms"] = round(
                value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 2
            )
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    total = re.search(r"(\d+) requests in", text)
    socket = re.search(r"Socket errors: (.*)", text)
    result["requests"] = int(total.group(1)) if total else None
    result["non_2xx"] = int(errors.group(1)) if errors else 0
    result["socket_errors"] = socket.group(1).strip() if socket else None
    if out.stderr.strip():
        result["wrk_stderr"] = out.stderr.strip()[-500:]
    return result


def _seed(holders: int, bank_url: str) -> dict[str, Any]:
    """A merchant and its terminal, the acquirer's operator, and funded active card holders."""
    from pydantic import SecretStr
    from tests.e2e.paycodes_world import shop
    from tests.support import citizen_id, person_body

    from sscard import bootstrap, db
    from sscard.db import migrate
    from sscard.ecard import service as ecard
    from sscard.ecard.schemas import RealPerson, SignIn
    from sscard.iam import service as iam
    from sscard.iam.catalog import ChannelType, InstitutionType
    from sscard.iam.operators import service as operators
    from sscard.iam.schemas import ChannelCreate, InstitutionCreate, OperatorCreate
    from sscard.issuance import numbers
    from sscard.issuance.cards import application_service, making_service, number_service
    from sscard.issuance.cards import service as issuance
    from sscard.issuance.cards.schemas import ApplicationIn, RangeIn
    from sscard.issuance.lifecycle import Action
    from sscard.kit.context import SYSTEM, acting
    from sscard.registry.persons import service as registry
    from sscard.registry.persons.schemas import PersonCreate
    from sscard.registry.photos import portraits
    from sscard.registry.photos import service as registry_photos

    migrate.upgrade("head")
    bootstrap.wire()
    actor = SYSTEM
    username, password = "benchacq", f"pw{secrets.token_hex(8)}1"
    with acting(actor), db.transaction() as session:
        platform_code = iam.ensure_platform_institution(session).code
        iam.create_institution(
            session,
            data=InstitutionCreate(
                code="BENCH-BANK", name="压测银行", type=InstitutionType.bank, region_code="370800"
            ),
        )
        iam.create_channel(
            session,
            data=ChannelCreate(
                code="BENCH-APP",
                name="压测APP",
                type=ChannelType.hrss_app,
                owner_institution_code=platform_code,
            ),
        )
        number_service.add_range(
            session, data=RangeIn(region_code="370800", prefix="B", start=1, end=10_000_000)
        )
        operators.create_operator(
            session,
            data=OperatorCreate.model_validate(
                {
                    "username": username,
                    "name": "收单机构",
                    "institution_code": platform_code,
                    "roles": ["clerk"],
                    "password": password,
                }
            ),
        )
    till = shop()
    portrait = portraits.demo_portrait(1)
    http = httpx.Client(base_url=bank_url, timeout=10)
    for n in range(holders):
        with acting(actor), db.transaction() as session:
            number = citizen_id("370811")
            registry.create_person(
                session, data=PersonCreate.model_validate(person_body(number)), actor=actor
            )
            registry_photos.put_photo(session, id_number=number, data=portrait, actor=actor)
            card = application_service.apply(
                session, data=ApplicationIn(id_number=number, bank_code="BENCH-BANK"), actor=actor
            )
            number_service.assign_number(session, card=card, actor=actor)
            issuance.transition(session, card=card, action=Action.submit, actor=actor)
            account = f"62170012{n:011d}"
            made = making_service.MadeCard(
                card_id_code=numbers.make_card_id_code(
                    region_code="370800", generation=3, vendor_code="BN01", year=2026, serial=n
                ),
                atr="3B6C00000A3180",
                bank_account=account,
                issue_date=date(2026, 11, 1),
            )
            making_service.record_made(session, card=card, made=made, actor=actor)
            issuance.transition(session, card=card, action=Action.issue, actor=actor)
            issuance.transition(session, card=card, action=Action.activate, actor=actor)
            card.bank_account_active = True  # as if the bank had confirmed it at activation
            issuance.set_pin(session, card_ref=card.id, pin="802417", actor=actor)
            photo = registry_photos.photo_bytes(session, person_id=card.person_id) or b""
            ecard.sign(
                session,
                actor=actor,
                data=SignIn(
                    id_number=number,
                    name="测试人员",
                    card_number=card.card_number or "",
                    card_pin=SecretStr("802417"),
                    channel_code="BENCH-APP",
                    real_person=RealPerson(
                        method="demo", image_base64=base64.b64encode(photo).decode()
                    ),
                    ecard_pin=SecretStr("246810"),
                ),
            )
            card_number = card.card_number or ""
        body = {"bank_code": "BENCH-BANK", "card_number": card_number, "account": account}
        deposit = {**body, "amount_fen": 100_000_000, "kind": "deposit", "description": "存入"}
        http.post("/control/postings", json=deposit).raise_for_status()
        http.post("/accounts/activate", json=body).raise_for_status()
    http.close()
    return {
        "merchant": till.code,
        "terminal": till.terminal,
        "username": username,
        "password": password,
    }


def _issue_codes(count: int, codes_file: Path) -> float:
    """``count`` live codes spread over the holders' e-cards, one per line; seconds taken."""
    from sqlalchemy import select

    from sscard import db
    from sscard.ecard.models import ECard
    from sscard.payments.paycodes import keys
    from sscard.payments.paycodes.models import PaymentCode
    from sscard.payments.paycodes.service import PRODUCT
    from sscard.settings import get_settings

    started = time.perf_counter()
    settings = get_settings()
    with db.transaction() as session:
        ecards = list(session.scalars(select(ECard).where(ECard.status == "active")))
        now = time.time()
        rows = []
        for n in range(count):
            ecard = ecards[n % len(ecards)]
            rows.append(
                PaymentCode(
                    slot=0,
                    tick=int(now) // 10,
                    product=PRODUCT,
                    person_id=ecard.person_id,
                    ecard_id=ecard.id,
                    card_id=ecard.card_id,
                    status="live",
                    no_pin_limit_fen=settings.pay_no_pin_limit_fen,
                    issued_at=datetime.fromtimestamp(now, UTC),
                    expires_at=datetime.fromtimestamp(now + settings.pay_code_ttl_seconds, UTC),
                )
            )
        session.add_all(rows)
        session.flush()
        codec = keys.codec(session, clock=lambda: now)
        with codes_file.open("w") as out:
            for row in rows:
                row.slot = row.id % 10**6
                out.write(codec.issue(product=PRODUCT, reference=row.slot) + "\n")
    return time.perf_counter() - started


def _outcomes(since_id: int) -> tuple[dict[str, int], int]:
    """Charge statuses of the codes issued after ``since_id``, and the highest code id."""
    from sqlalchemy import func, select

    from sscard import db
    from sscard.payments.paycodes.models import CardCharge, PaymentCode

    with db.transaction() as session:
        counts = session.execute(
            select(CardCharge.status, func.count())
            .where(CardCharge.paycode_id > since_id)
            .group_by(CardCharge.status)
        ).all()
        top = session.scalar(select(func.max(PaymentCode.id))) or 0
    return {str(status): int(n) for status, n in counts}, int(top)


def _ledger() -> dict[str, Any]:
    from sqlalchemy import func, select

    from sscard import db
    from sscard.payments.ledger.verify import verify_ledger
    from sscard.payments.orders.models import Order

    with db.transaction() as session:
        report = verify_ledger(session, progress=lambda *_: None)
        paid = session.scalar(select(func.count()).where(Order.status == "paid")) or 0
    return {"report": report.model_dump(), "paid_orders": int(paid)}


def _profile(seeded: dict[str, Any], count: int, codes_file: Path) -> list[dict[str, Any]]:
    """The charge route's body in process (no HTTP), under cProfile: top frames by own time
    and by cumulative time."""
    from sqlalchemy import event

    from sscard import db
    from sscard.errors import SSCardError
    from sscard.kit import context
    from sscard.payments.paycodes import pay_service
    from sscard.payments.paycodes.schemas import ChargeIn

    actor = context.Actor(
        kind=context.ActorKind.operator,
        id="bench-acquirer",
        name="收单机构",
        institution_code="PLATFORM",
        region_code="370800",
        permissions=frozenset({"payments.orders.manage", "payments.merchants.manage"}),
    )
    _issue_codes(count, codes_file)
    codes = codes_file.read_text().split()
    refused = 0
    trips = {"statements": 0, "commits": 0}

    def statement(*_: Any) -> None:
        trips["statements"] += 1

    def commit(*_: Any) -> None:
        trips["commits"] += 1

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for code in codes:
        data = ChargeIn(
            merchant_code=seeded["merchant"],
            terminal_code=seeded["terminal"],
            code=code,
            amount_fen=AMOUNT_FEN,
            merchant_order_no=f"P{code}",
        )
        try:
            with db.transaction() as session:
                merchant = pay_service.charging_merchant(
                    session,
                    actor=actor,
                    merchant_code=data.merchant_code,
                    terminal_code=data.terminal_code,
                )
                ordered = pay_service.order_paycode(
                    session, data=data, merchant=merchant, actor=actor
                )
            pay_service.pay(ordered, actor=actor)
        except SSCardError:
            refused += 1  # e.g. a code that expired while a slow machine got to it
    profiler.disable()
    seconds = time.perf_counter() - started
    event.remove(engine, "before_cursor_execute", statement)
    event.remove(engine, "commit", commit)
    stats = pstats.Stats(profiler, stream=io.StringIO())
    total = max(seconds, 1e-9)
    rows: list[dict[str, Any]] = []
    entries = stats.stats  # type: ignore[attr-defined]
    for key, order in (("own", 2), ("cumulative", 3)):
        ranked = sorted(entries.items(), key=lambda item: item[1][order], reverse=True)
        for (filename, line, name), values in ranked[:12]:
            where = filename.split("site-packages/")[-1].split("/src/")[-1]
            rows.append(
                {
                    "by": key,
                    "frame": f"{where}:{line}({name})",
                    "ms_per_charge": round(values[order] * 1000 / len(codes), 3),
                    "share": round(values[order] / total, 3),
                }
            )
    rows.append(
        {
            "by": "total",
            "frame": f"in-process charge ({refused} refused)",
            "ms_per_charge": round(total * 1000 / len(codes), 3),
            "statements_per_charge": round(trips["statements"] / len(codes), 1),
            "commits_per_charge": round(trips["commits"] / len(codes), 1),
        }
    )
    return rows


def _bank_debits(bank_url: str) -> dict[str, int]:
    items = httpx.get(f"{bank_url}/control/payments", timeout=30).json()["items"]
    counts: dict[str, int] = {}
    for item in items:
        if item["kind"] == "debit":
            counts[item["status"]] = counts.get(item["status"], 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--holders", type=int, default=100)
    parser.add_argument(
        "--rate-bound", type=int, default=1000, help="codes issued per second of each run"
    )
    parser.add_argument(
        "--profile", action="store_true", help="add profile_top: cProfile of the charge path"
    )
    parser.add_argument("--profile-charges", type=int, default=200)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "SSCARD_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres"
        ),
        help="an admin URL; the bench makes and drops its own database",
    )
    parser.add_argument(
        "--redis", default=os.environ.get("SSCARD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")

    work = Path(tempfile.mkdtemp(prefix="sscard-bench-pay-"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("SSCARD_", "PEER_"))}
    bench_db = f"bench_payhttp_{os.getpid()}"
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {bench_db}")
    bank = server = acquirer = None
    try:
        bank_url, bank = _start(
            [sys.executable, "-m", "peers.bank"],
            work / "bank.log",
            {**base_env, "PEER_DATA_DIR": str(work / "bank")},
        )
        env = {
            **base_env,
            "SSCARD_DATA_DIR": str(work / "var"),
            "SSCARD_MASTER_KEY": secrets.token_hex(16),
            "SSCARD_LOG_LEVEL": "WARNING",
            "SSCARD_DATABASE_URL": f"{args.database_url.rsplit('/', 1)[0]}/{bench_db}",
            "SSCARD_REDIS_URL": args.redis,
            "SSCARD_BANK_URLS": json.dumps({"*": bank_url}),
            "SSCARD_PAY_CODE_TTL_SECONDS": "300",
        }
        os.environ.update(env)
        _say("seeding")
        started = time.perf_counter()
        seeded = _seed(args.holders, bank_url)
        setup_seconds = time.perf_counter() - started
        _say("starting the platform")
        url, server = _start(
            [
                sys.executable,
                "-m",
                "sscard.cli.main",
                "serve",
                "--workers",
                str(args.workers),
            ],
            work / "server.log",
            env,
        )
        _say("starting the acquirer")
        acquirer_url, acquirer = _start(
            [sys.executable, "-m", "peers.acquirer"],
            work / "acquirer.log",
            {
                **base_env,
                "PEER_DATA_DIR": str(work / "acquirer"),
                "PEER_ACQUIRER_PLATFORM_URL": url,
                "PEER_ACQUIRER_USERNAME": seeded["username"],
                "PEER_ACQUIRER_PASSWORD": seeded["password"],
            },
        )
        token = httpx.post(
            f"{url}/api/v1/auth/token",
            data={"username": seeded["username"], "password": seeded["password"]},
            timeout=15,
        ).json()["access_token"]
        script = work / "pay.lua"
        script.write_text(LUA)
        codes_file = work / "codes.txt"
        count = args.duration * args.rate_bound
        wrk_env = {
            **os.environ,
            "SSCARD_BENCH_CODES": str(codes_file),
            "SSCARD_BENCH_THREADS": str(args.threads),
            "SSCARD_BENCH_TOKEN": token,
        }
        common = {"threads": args.threads, "connections": args.connections}
        merchant, terminal = seeded["merchant"], seeded["terminal"]
        bodies = {
            "via_acquirer": (
                acquirer_url,
                "/pay",
                f'{{"merchant":"{merchant}","terminal":"{terminal}","code":"%s",'
                f'"amount_fen":{AMOUNT_FEN},"merchant_order_no":"%s"}}',
            ),
            "platform_direct": (
                url,
                "/api/v1/payments/paycodes/charge",
                f'{{"merchant_code":"{merchant}","terminal_code":"{terminal}","code":"%s",'
                f'"amount_fen":{AMOUNT_FEN},"merchant_order_no":"%s"}}',
            ),
        }
        _say("run healthz")
        _wrk(f"{url}/healthz", seconds=3, script=None, env=wrk_env, **common)
        reference = _wrk(
            f"{url}/healthz", seconds=args.duration, script=None, env=wrk_env, **common
        )
        runs: dict[str, Any] = {}
        _, last_code = _outcomes(0)
        for name, (target, path, body) in bodies.items():
            issue_seconds = _issue_codes(count, codes_file)
            _say(f"run {name}")
            run_env = {**wrk_env, "SSCARD_BENCH_PATH": path, "SSCARD_BENCH_BODY": body}
            result = _wrk(target, seconds=args.duration, script=script, env=run_env, **common)
            outcomes, top = _outcomes(last_code)
            last_code = top
            result["outcomes"] = outcomes
            result["codes_issued"] = count
            result["codes_issue_s"] = round(issue_seconds, 2)
            runs[name] = result
        profile_top = None
        if args.profile:
            _say("profile")
            profile_top = _profile(seeded, args.profile_charges, codes_file)
        ledger = _ledger()
        debits = _bank_debits(bank_url)
        direct = runs["platform_direct"].get("requests_per_s") or 0
        ceiling = reference.get("requests_per_s") or 0
        print(
            json.dumps(
                {
                    "benchmark": "payments_http",
                    "machine": {
                        "cpu_count": os.cpu_count(),
                        "python": platform.python_version(),
                    },
                    "backend": "postgresql+redis",
                    "workers": args.workers,
                    "acquirer_processes": 1,
                    "connections": args.connections,
                    "duration_s": args.duration,
                    "holders": args.holders,
                    "amount_fen": AMOUNT_FEN,
                    "setup_s": round(setup_seconds, 1),
                    **runs,
                    "reference_healthz": reference,
                    "direct_to_healthz_ratio": round(direct / ceiling, 3) if ceiling else None,
                    "ledger_clean": ledger["report"]["ok"],
                    "ledger": ledger["report"],
                    "paid_orders": ledger["paid_orders"],
                    "bank_debits": debits,
                    "profile_top": profile_top,
                    "aim": {"transfers_per_s": 650, "p99_ms": 100, "source": "Mojaloop"},
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    finally:
        _stop(acquirer)
        _stop(server)
        _stop(bank)
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {bench_db} WITH (FORCE)")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
