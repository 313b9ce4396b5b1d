"""The e-card verify endpoint under wrk, beside /healthz as the framework's own ceiling.

Sets up a throwaway database (PostgreSQL by default, with Redis for single-use claims;
``--sqlite`` for the embedded default), signs e-cards for a few holders, makes enough
fresh codes for the run, starts ``sscard serve --workers N`` and drives it with wrk from
the same machine. Prints JSON: requests/s, latency percentiles, errors. No assertions.

    .venv/bin/python bench/ecard_http.py [--duration 20] [--connections 32] [--workers 2]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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
  return wrk.format("POST", "/api/v1/ecard/codes/verify", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("SSCARD_BENCH_TOKEN"),
  }, '{"code":"' .. code .. '"}')
end
"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wrk(
    url: str,
    *,
    threads: int,
    connections: int,
    seconds: int,
    script: Path | None,
    env: dict[str, str],
) -> dict[str, object]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, env=env, check=True)
    text = out.stdout
    result: dict[str, object] = {"raw_requests_per_s": None}
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
    result["requests"] = int(total.group(1)) if total else None
    result["non_2xx"] = int(errors.group(1)) if errors else 0
    del result["raw_requests_per_s"]
    return result


def _setup(holders: int, codes_needed: int, codes_file: Path) -> str:
    """Holders with active cards and signed e-cards, a terminal, and fresh codes."""
    from pydantic import SecretStr
    from tests.support import citizen_id, person_body

    from sscard import bootstrap, db
    from sscard.db import migrate
    from sscard.ecard import service as ecard
    from sscard.ecard.codes import service as codes
    from sscard.ecard.schemas import RealPerson, SignIn
    from sscard.iam import service as iam
    from sscard.iam.catalog import ChannelType, InstitutionType
    from sscard.iam.schemas import ChannelCreate, InstitutionCreate
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
    from sscard.scenarios import service as scenarios
    from sscard.scenarios.schemas import TerminalIn

    migrate.upgrade("head")
    bootstrap.wire()
    actor = SYSTEM
    with acting(actor), db.transaction() as session:
        platform = iam.ensure_platform_institution(session).code
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
                owner_institution_code=platform,
            ),
        )
        number_service.add_range(
            session, data=RangeIn(region_code="370800", prefix="B", start=1, end=10_000_000)
        )
        scenarios.ensure_default_scenarios(session)
        token = scenarios.register_terminal(
            session,
            data=TerminalIn(
                code="BENCH-GATE",
                name="压测闸机",
                institution_code=platform,
                scenario_code="library",
            ),
        ).token
    copies = []
    portrait = portraits.demo_portrait(1)
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
            made = making_service.MadeCard(
                card_id_code=numbers.make_card_id_code(
                    region_code="370800", generation=3, vendor_code="BN01", year=2026, serial=n
                ),
                atr="3B6C00000A3180",
                bank_account="6217001234567890123",
                issue_date=date(2026, 11, 1),
            )
            making_service.record_made(session, card=card, made=made, actor=actor)
            issuance.transition(session, card=card, action=Action.issue, actor=actor)
            issuance.transition(session, card=card, action=Action.activate, actor=actor)
            issuance.set_pin(session, card_ref=card.id, pin="802417", actor=actor)
            photo = registry_photos.photo_bytes(session, person_id=card.person_id) or b""
            _, copy = ecard.sign(
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
            copies.append(copy)
    with db.transaction() as session, codes_file.open("w") as out:
        for n in range(codes_needed):
            copy = session.merge(copies[n % len(copies)])
            out.write(codes.issue_code(session, copy=copy, business=1).code + "\n")
    return token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--holders", type=int, default=20)
    parser.add_argument("--rate-bound", type=int, default=6000, help="codes made per second of run")
    parser.add_argument("--sqlite", action="store_true", help="the embedded default instead")
    parser.add_argument(
        "--profile", help="write a py-spy flame graph of the server here (needs --workers 1)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SSCARD_NAME=VALUE",
        help="a setting for the server, e.g. SSCARD_AUDIT_CHAINS=16 (repeatable)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "SSCARD_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres"
        ),
    )
    parser.add_argument(
        "--redis", default=os.environ.get("SSCARD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")

    work = Path(tempfile.mkdtemp(prefix="sscard-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSCARD_")}
    env.update(
        {
            "SSCARD_DATA_DIR": str(work / "var"),
            "SSCARD_MASTER_KEY": secrets.token_hex(16),
            "SSCARD_ECARD_CODE_TTL_SECONDS": "3600",
            "SSCARD_LOG_LEVEL": "WARNING",
        }
    )
    for item in args.set:
        name, _, value = item.partition("=")
        env[name] = value
    bench_db = None
    if args.sqlite:
        env["SSCARD_DATABASE_URL"] = f"sqlite:///{work}/bench.db"
        backend = "sqlite"
    else:
        bench_db = f"sscard_bench_{os.getpid()}"
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {bench_db}")
        base = args.postgres.rsplit("/", 1)[0]
        env["SSCARD_DATABASE_URL"] = f"{base}/{bench_db}"
        env["SSCARD_REDIS_URL"] = args.redis
        backend = "postgresql+redis"
    os.environ.update(env)
    server = None
    try:
        codes_file = work / "codes.txt"
        started = time.perf_counter()
        token = _setup(args.holders, args.duration * args.rate_bound + 20_000, codes_file)
        setup_seconds = time.perf_counter() - started
        port = _free_port()
        log = (work / "server.log").open("wb")
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sscard.cli.main",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        script = work / "verify.lua"
        script.write_text(LUA)
        wrk_env = {
            **os.environ,
            "SSCARD_BENCH_CODES": str(codes_file),
            "SSCARD_BENCH_THREADS": str(args.threads),
            "SSCARD_BENCH_TOKEN": token,
        }
        common = {"threads": args.threads, "connections": args.connections, "env": wrk_env}
        _wrk(f"{url}/healthz", seconds=3, script=None, **common)
        reference = _wrk(f"{url}/healthz", seconds=args.duration, script=None, **common)
        spy = None
        if args.profile and shutil.which("py-spy") and args.workers == 1:
            spy = subprocess.Popen(
                [
                    "py-spy",
                    "record",
                    "--pid",
                    str(server.pid),
                    "--duration",
                    str(args.duration),
                    "--format",
                    "speedscope",
                    "-o",
                    args.profile,
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        verify = _wrk(url, seconds=args.duration, script=script, **common)
        if spy is not None:
            spy.wait(timeout=60)
        print(
            json.dumps(
                {
                    "benchmark": "ecard_verify_http",
                    "backend": backend,
                    "workers": args.workers,
                    "settings": args.set,
                    "connections": args.connections,
                    "duration_s": args.duration,
                    "setup_s": round(setup_seconds, 1),
                    "verify": verify,
                    "reference_healthz": reference,
                    "aim": {"requests_per_s": 3000, "p99_ms": 50},
                },
                indent=2,
            )
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if bench_db:
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {bench_db} WITH (FORCE)")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
